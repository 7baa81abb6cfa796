package agentclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCallsAreConnectJSONPostsWithTheBearerToken(t *testing.T) {
	var got struct {
		method, path, ctype, auth, version string
		body                               map[string]interface{}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.ctype, got.auth, got.version = r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.Header.Get("Connect-Protocol-Version")
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got.body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"success":true,"keydataSha256":"3q2+7w==","session":{"sessionId":"ab","state":"SESSION_STATE_COMPLETED","notAfter":"2026-12-02T10:00:00Z"},"sharesUsed":{"external":3},"newerField":1}`)
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL + "/", Token: "secret-token-0123456789"}
	r, err := c.RecoverMPCShare(context.Background(), RecoverMPCShareRequest{KeyID: "key-1", NodeID: "node-1", ShareData: [][]byte{{1, 2}}, Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.method != "POST" || got.path != "/infra.v1.BackupService/RecoverMPCShare" || got.ctype != "application/json" || got.auth != "Bearer secret-token-0123456789" || got.version != "1" {
		t.Fatalf("request %+v", got)
	}
	if got.body["keyId"] != "key-1" || got.body["complete"] != true || got.body["shareData"].([]interface{})[0] != "AQI=" {
		t.Fatalf("body %v", got.body)
	}
	if _, ok := got.body["drill"]; ok {
		t.Fatal("default values are left out, as proto3 JSON does")
	}
	if !r.Success || string(r.KeydataSha256) != "\xde\xad\xbe\xef" || r.Session.State != "SESSION_STATE_COMPLETED" || r.Session.NotAfter.Year() != 2026 || r.SharesUsed.External != 3 {
		t.Fatalf("response %+v", r)
	}
}

func TestRefusalsCarryTheConnectAndCustosCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/infra.v1.BackupService/GetBackupStatus":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Custos-Error-Code", "NOT_FOUND")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":"not_found","message":"Key nope node node-1 is not known to this agent; import its keydata first."}`)
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "proxy error")
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Token: "t"}
	_, err := c.GetBackupStatus(context.Background(), GetBackupStatusRequest{KeyID: "nope", NodeID: "node-1"})
	var e *Error
	if !errors.As(err, &e) || e.Code != "not_found" || e.CustosCode != "NOT_FOUND" || e.HTTPStatus != 404 || !strings.Contains(e.Error(), "import its keydata first") {
		t.Fatalf("error %#v", err)
	}
	_, err = c.RecoverMPCShare(context.Background(), RecoverMPCShareRequest{})
	if !errors.As(err, &e) || e.Code != "unknown" || e.HTTPStatus != 502 {
		t.Fatalf("error %#v", err)
	}
}

func TestAnAnswerThatIsNotJSONIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>")
	}))
	defer srv.Close()
	_, err := (&Client{BaseURL: srv.URL}).GetBackupStatus(context.Background(), GetBackupStatusRequest{})
	if err == nil || !strings.Contains(err.Error(), "not application/json") {
		t.Fatalf("error %v", err)
	}
}

func TestReadTokenRefusesAFileOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "api.token")
	os.WriteFile(p, []byte("  tok-0123456789abcdef\n"), 0o600)
	if tok, err := ReadToken(p); err != nil || tok != "tok-0123456789abcdef" {
		t.Fatalf("%q %v", tok, err)
	}
	os.Chmod(p, 0o644)
	if _, err := ReadToken(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("error %v", err)
	}
}
