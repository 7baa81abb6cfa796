// Package agentclient calls the Custos recovery agent's BackupService (proto/infra/v1/backup.proto)
// over the Connect protocol's JSON encoding with net/http only: POST /infra.v1.BackupService/<Method>,
// Content-Type application/json, the proto3 JSON mapping of the messages, and the agent's bearer
// token. A refused call is an *Error with the Connect code, the message and the agent's own code
// (the custos-error-code header).
//
// The agent listens on loopback without TLS; HTTP/1.1 is enough for unary Connect calls, so no
// HTTP/2 client (and no third-party module) is needed.
package agentclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Service is the protobuf service the methods below belong to.
const Service = "infra.v1.BackupService"

// MaxResponseBytes bounds what is read from the agent.
const MaxResponseBytes = 16 << 20

// Client is one agent's address and token.
type Client struct {
	// BaseURL is the agent's address, for example http://127.0.0.1:50051.
	BaseURL string
	// Token is the content of the agent's api.token (never logged).
	Token string
	// HTTP is the client used; nil means a client with a 60 s timeout.
	HTTP *http.Client
}

// Error is a refused call: the Connect error code ("not_found", "unauthenticated", …), the
// agent's message, and its Custos code (NOT_FOUND, BELOW_THRESHOLD, …) when it sent one.
type Error struct {
	HTTPStatus int
	Code       string
	Message    string
	CustosCode string
}

func (e *Error) Error() string {
	s := e.Code
	if e.CustosCode != "" {
		s += " (" + e.CustosCode + ")"
	}
	return s + ": " + e.Message
}

// ReadToken reads an api.token file, refusing one that group or others can read, as the agent does.
func ReadToken(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is accessible to group or others (mode %o); refusing to use the token. Run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return token, nil
}

// Call posts req as JSON to /<Service>/<method> and decodes the answer into resp.
func (c *Client) Call(ctx context.Context, method string, req, resp interface{}) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	url := strings.TrimRight(c.BaseURL, "/") + "/" + Service + "/" + method
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Connect-Protocol-Version", "1")
	if c.Token != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	hres, err := hc.Do(hreq)
	if err != nil {
		return err
	}
	defer hres.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(hres.Body, MaxResponseBytes+1))
	if err != nil {
		return err
	}
	if len(raw) > MaxResponseBytes {
		return errors.New("the agent's answer is larger than 16 MiB")
	}
	if hres.StatusCode != http.StatusOK {
		e := &Error{HTTPStatus: hres.StatusCode, CustosCode: hres.Header.Get("Custos-Error-Code")}
		var wire struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &wire) == nil && wire.Code != "" {
			e.Code, e.Message = wire.Code, wire.Message
		} else {
			e.Code, e.Message = "unknown", fmt.Sprintf("HTTP %d from the agent", hres.StatusCode)
		}
		return e
	}
	if ct := hres.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("the agent answered with Content-Type %q, not application/json", ct)
	}
	return json.Unmarshal(raw, resp)
}

// GetBackupStatus is BackupService.GetBackupStatus.
func (c *Client) GetBackupStatus(ctx context.Context, req GetBackupStatusRequest) (*GetBackupStatusResponse, error) {
	var resp GetBackupStatusResponse
	if err := c.Call(ctx, "GetBackupStatus", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// RecoverMPCShare is BackupService.RecoverMPCShare.
func (c *Client) RecoverMPCShare(ctx context.Context, req RecoverMPCShareRequest) (*RecoverMPCShareResponse, error) {
	var resp RecoverMPCShareResponse
	if err := c.Call(ctx, "RecoverMPCShare", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
