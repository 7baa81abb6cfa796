package agentclient

import "time"

// The messages of proto/infra/v1/backup.proto in the proto3 JSON mapping: lowerCamelCase names,
// bytes as base64, enums by name, timestamps as RFC 3339 strings, and fields at their default
// value left out (so every field is optional here). Unknown fields are ignored, so a newer agent's
// additions do not break this client.

// GetBackupStatusRequest asks for one node's backup state.
type GetBackupStatusRequest struct {
	KeyID  string `json:"keyId"`
	NodeID string `json:"nodeId"`
}

// Drill is the last recovery drill of a node.
type Drill struct {
	At         *time.Time `json:"at,omitempty"`
	OK         bool       `json:"ok,omitempty"`
	Mode       string     `json:"mode,omitempty"`
	DurationMs uint32     `json:"durationMs,omitempty"`
	SetID      string     `json:"setId,omitempty"`
	SessionID  string     `json:"sessionId,omitempty"`
	Note       string     `json:"note,omitempty"`
}

// GetBackupStatusResponse is a node's backup state.
type GetBackupStatusResponse struct {
	KeyID                   string     `json:"keyId"`
	NodeID                  string     `json:"nodeId"`
	SetID                   string     `json:"setId"`
	Epoch                   uint32     `json:"epoch"`
	Curve                   string     `json:"curve"`
	Threshold               uint32     `json:"threshold"`
	Total                   uint32     `json:"total"`
	ServerSharesHeld        uint32     `json:"serverSharesHeld"`
	ExternalDelivered       uint32     `json:"externalDelivered"`
	ExternalConfirmed       uint32     `json:"externalConfirmed"`
	Recoverable             bool       `json:"recoverable"`
	LastDrill               *Drill     `json:"lastDrill,omitempty"`
	Retain                  uint32     `json:"retain"`
	ExternalOnlyRecoverable bool       `json:"externalOnlyRecoverable"`
	ServerSharesSoftDeleted uint32     `json:"serverSharesSoftDeleted"`
	ZeroRetention           bool       `json:"zeroRetention"`
	ZeroRetentionSince      *time.Time `json:"zeroRetentionSince,omitempty"`
	ExternalAttested        uint32     `json:"externalAttested"`
	ExternalFailed          uint32     `json:"externalFailed"`
	InventoryRecoverable    bool       `json:"inventoryRecoverable"`
	OverdueCustodians       []string   `json:"overdueCustodians,omitempty"`
	LastAttestedAt          *time.Time `json:"lastAttestedAt,omitempty"`
}

// RecoverMPCShareRequest submits custodians' recovery exports and, with Complete, recovers.
type RecoverMPCShareRequest struct {
	KeyID       string   `json:"keyId"`
	NodeID      string   `json:"nodeId"`
	SessionID   string   `json:"sessionId,omitempty"`
	ShareData   [][]byte `json:"shareData,omitempty"`
	Complete    bool     `json:"complete,omitempty"`
	PeerKeydata []byte   `json:"peerKeydata,omitempty"`
	Drill       bool     `json:"drill,omitempty"`
}

// Approval is one approver's signature on a session.
type Approval struct {
	Approver string     `json:"approver"`
	Name     string     `json:"name"`
	At       *time.Time `json:"at,omitempty"`
}

// RecoverySession is a recovery session's state.
type RecoverySession struct {
	SessionID            string     `json:"sessionId"`
	IncidentID           string     `json:"incidentId"`
	IncidentTitle        string     `json:"incidentTitle,omitempty"` // free text in any script; empty: none
	KeyID                string     `json:"keyId"`
	NodeID               string     `json:"nodeId"`
	SetID                string     `json:"setId"`
	Epoch                uint32     `json:"epoch"`
	Mode                 string     `json:"mode"`
	State                string     `json:"state"`
	NotAfter             *time.Time `json:"notAfter,omitempty"`
	Approvals            []Approval `json:"approvals,omitempty"`
	Threshold            uint32     `json:"threshold"`
	ReceivedShareIndexes []uint32   `json:"receivedShareIndexes,omitempty"`
	MissingShareIndexes  []uint32   `json:"missingShareIndexes,omitempty"`
	ServerShareIndexes   []uint32   `json:"serverShareIndexes,omitempty"`
	RequestIssued        bool       `json:"requestIssued"`
	CreatedAt            *time.Time `json:"createdAt,omitempty"`
	EndedAt              *time.Time `json:"endedAt,omitempty"`
}

// RefusedShare is one export the agent refused (or a server share it set aside).
type RefusedShare struct {
	ShareIndex uint32 `json:"shareIndex"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

// SelfCheck is one check of the regenerated keydata.
type SelfCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// SharesUsed says which shares a completion combined.
type SharesUsed struct {
	Server       uint32   `json:"server"`
	External     uint32   `json:"external"`
	ShareIndexes []uint32 `json:"shareIndexes,omitempty"`
}

// Failure is why a completion was refused.
type Failure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RecoverMPCShareResponse is the session's progress, and on completion the result.
type RecoverMPCShareResponse struct {
	Success              bool             `json:"success"`
	Session              *RecoverySession `json:"session,omitempty"`
	AcceptedShareIndexes []uint32         `json:"acceptedShareIndexes,omitempty"`
	Refused              []RefusedShare   `json:"refused,omitempty"`
	MissingShareIndexes  []uint32         `json:"missingShareIndexes,omitempty"`
	Threshold            uint32           `json:"threshold"`
	KeydataSha256        []byte           `json:"keydataSha256,omitempty"`
	SelfCheck            []SelfCheck      `json:"selfCheck,omitempty"`
	SharesUsed           *SharesUsed      `json:"sharesUsed,omitempty"`
	Failure              *Failure         `json:"failure,omitempty"`
	Written              bool             `json:"written"`
	ContextSource        string           `json:"contextSource,omitempty"`
	Skipped              []RefusedShare   `json:"skipped,omitempty"`
	DurationMs           uint32           `json:"durationMs"`
}
