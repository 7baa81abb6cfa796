// Command custos-agent-client is an example of a node (or any Go program) calling the recovery
// agent with net/http only, over the Connect protocol's JSON encoding:
//
//	custos-agent-client --url http://127.0.0.1:50051 --token-file DATA/api.token status --key-id K --node-id N
//	custos-agent-client --url ... --token-file ... recover --key-id K --node-id N [--session-id S] [--complete] [--drill] [EXPORT_FILE...]
//
// It prints the answer as JSON (bytes in hex). The token may come from $CUSTOS_AGENT_TOKEN instead
// of a file; it is never printed. Exit status: 0 answered (for recover --complete: and succeeded),
// 1 refused or failed, 2 usage.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"custos/integrations/go/agentclient"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(stderr io.Writer) int {
	fmt.Fprintln(stderr, "usage: custos-agent-client --url URL (--token-file FILE | $CUSTOS_AGENT_TOKEN) status|recover --key-id K --node-id N [--session-id S] [--complete] [--drill] [EXPORT_FILE...]")
	return 2
}

func run(args []string, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("custos-agent-client", flag.ContinueOnError)
	global.SetOutput(stderr)
	url := global.String("url", "http://127.0.0.1:50051", "the agent's address")
	tokenFile := global.String("token-file", "", "the agent's api.token")
	timeout := global.Duration("timeout", 60*time.Second, "how long to wait for the agent")
	if err := global.Parse(args); err != nil {
		return 2
	}
	rest := global.Args()
	if len(rest) == 0 {
		return usage(stderr)
	}
	token := os.Getenv("CUSTOS_AGENT_TOKEN")
	if *tokenFile != "" {
		t, err := agentclient.ReadToken(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "custos-agent-client: %v\n", err)
			return 1
		}
		token = t
	}
	if token == "" {
		fmt.Fprintln(stderr, "custos-agent-client: no token: pass --token-file DATA/api.token or set CUSTOS_AGENT_TOKEN")
		return 2
	}
	client := &agentclient.Client{BaseURL: *url, Token: token}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	sub := flag.NewFlagSet(rest[0], flag.ContinueOnError)
	sub.SetOutput(stderr)
	keyID := sub.String("key-id", "", "key id")
	nodeID := sub.String("node-id", "", "node id")
	sessionID := sub.String("session-id", "", "recovery session (recover; default: the node's open session)")
	complete := sub.Bool("complete", false, "combine the shares and write back the node's share (recover)")
	drill := sub.Bool("drill", false, "with --complete: verify everything, write nothing (recover)")
	if err := sub.Parse(rest[1:]); err != nil {
		return 2
	}
	var answer interface{}
	ok := true
	switch rest[0] {
	case "status":
		st, err := client.GetBackupStatus(ctx, agentclient.GetBackupStatusRequest{KeyID: *keyID, NodeID: *nodeID})
		if err != nil {
			return fail(stderr, err)
		}
		answer = st
	case "recover":
		req := agentclient.RecoverMPCShareRequest{KeyID: *keyID, NodeID: *nodeID, SessionID: *sessionID, Complete: *complete, Drill: *drill}
		for _, path := range sub.Args() {
			b, err := os.ReadFile(path)
			if err != nil {
				fmt.Fprintf(stderr, "custos-agent-client: %v\n", err)
				return 1
			}
			req.ShareData = append(req.ShareData, b)
		}
		r, err := client.RecoverMPCShare(ctx, req)
		if err != nil {
			return fail(stderr, err)
		}
		ok = !*complete || r.Success
		answer = struct {
			*agentclient.RecoverMPCShareResponse
			KeydataSha256 string `json:"keydataSha256,omitempty"`
		}{r, hex.EncodeToString(r.KeydataSha256)}
	default:
		return usage(stderr)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(answer); err != nil {
		return fail(stderr, err)
	}
	if !ok {
		return 1
	}
	return 0
}

func fail(stderr io.Writer, err error) int {
	var e *agentclient.Error
	if errors.As(err, &e) {
		fmt.Fprintf(stderr, "custos-agent-client: the agent refused: %s\n", e.Error())
		return 1
	}
	fmt.Fprintf(stderr, "custos-agent-client: %v\n", err)
	return 1
}
