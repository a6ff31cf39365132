package session

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"
)

// Session is a signed-in browser's tokens, as the session cookie holds
// them.
type Session struct {
	Created      time.Time // the sign-in; the session ends a fixed lifetime after it, whatever refreshes happen
	Obtained     time.Time // when the tokens were obtained: the sign-in or the last refresh
	AccessExpiry time.Time // when the access token expires
	AccessToken  string
	RefreshToken string // "" when the provider issued none
	IDToken      string // the latest ID token, for the logout's id_token_hint
}

// State is a sign-in in progress, as the state cookie holds it between the
// redirect to the provider and the browser's return.
type State struct {
	Created  time.Time
	State    string // the state parameter sent to the provider
	Nonce    string // the nonce the ID token must carry
	Verifier string // the PKCE code verifier
	Return   string // where to go once signed in (ReturnPath)
}

// ErrPayload is returned for a cookie whose plaintext is not what this
// version writes. Only a key shared with another program, or a bug, can get
// there: a sealed value cannot be altered without ErrTampered.
var ErrPayload = errors.New("the cookie's content is not a tokengate session or sign-in state")

const (
	tagSession = 'S'
	tagState   = 'A'
	// maxField bounds one string of a payload; tokens of real providers are
	// a few KiB.
	maxField = 16 << 10
)

// MarshalBinary encodes s: a tag, three times in Unix seconds and the three
// tokens, each with its length.
func (s *Session) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+3*8+3*binary.MaxVarintLen32+len(s.AccessToken)+len(s.RefreshToken)+len(s.IDToken))
	b = append(b, tagSession)
	for _, t := range [...]time.Time{s.Created, s.Obtained, s.AccessExpiry} {
		b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
	}
	return appendFields(b, s.AccessToken, s.RefreshToken, s.IDToken)
}

// UnmarshalBinary decodes what MarshalBinary wrote, exactly: no byte more
// or less.
func (s *Session) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	if r.byte() != tagSession {
		return ErrPayload
	}
	out := Session{Created: r.time(), Obtained: r.time(), AccessExpiry: r.time(),
		AccessToken: r.str(), RefreshToken: r.str(), IDToken: r.str()}
	if !r.done() || out.AccessToken == "" {
		return ErrPayload
	}
	*s = out
	return nil
}

// MarshalBinary encodes st like a Session.
func (st *State) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+8+4*binary.MaxVarintLen32+len(st.State)+len(st.Nonce)+len(st.Verifier)+len(st.Return))
	b = append(b, tagState)
	b = binary.BigEndian.AppendUint64(b, uint64(st.Created.Unix()))
	return appendFields(b, st.State, st.Nonce, st.Verifier, st.Return)
}

// UnmarshalBinary decodes what MarshalBinary wrote, exactly, and holds the
// return address to ReturnPath again.
func (st *State) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	if r.byte() != tagState {
		return ErrPayload
	}
	out := State{Created: r.time(), State: r.str(), Nonce: r.str(), Verifier: r.str(), Return: r.str()}
	if !r.done() || out.State == "" || out.Nonce == "" || out.Verifier == "" || !ReturnPath(out.Return) {
		return ErrPayload
	}
	*st = out
	return nil
}

func appendFields(b []byte, fields ...string) ([]byte, error) {
	for _, f := range fields {
		if len(f) > maxField {
			return nil, errors.New("a token of " + strconv.Itoa(len(f)) + " bytes is too large for a cookie")
		}
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b, nil
}

// reader decodes a payload; the first problem makes every later read
// return zero values and done false.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) byte() byte {
	if r.bad || len(r.b) < 1 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) time() time.Time {
	if r.bad || len(r.b) < 8 {
		r.bad = true
		return time.Time{}
	}
	v := int64(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return time.Unix(v, 0)
}

func (r *reader) str() string {
	if r.bad {
		return ""
	}
	n, k := binary.Uvarint(r.b)
	// The length must be in its one (shortest) encoding: a payload decodes
	// only from the bytes MarshalBinary writes for it.
	if k <= 0 || k != uvarintLen(n) || n > maxField || uint64(len(r.b)-k) < n {
		r.bad = true
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

// uvarintLen is the length of v's shortest unsigned varint encoding.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

func (r *reader) done() bool { return !r.bad && len(r.b) == 0 }
