package keycloak

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
)

// tcpSwitch is a loopback TCP relay in front of Keycloak that the test can
// switch off and on: off, its port refuses connections and the connections
// it carried are cut, as when the provider's host goes away. It relays bytes
// unchanged, so Keycloak sees the switch's address in Host and names it in
// the issuer of the tokens and discovery document it serves through it.
type tcpSwitch struct {
	addr   string // host:port, the same while on and off
	target string

	mu    sync.Mutex
	ln    net.Listener // nil while off
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startSwitch(t *testing.T, target string) *tcpSwitch {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpSwitch{addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{}}
	s.serve(ln)
	t.Cleanup(func() { s.off(); s.wg.Wait() })
	return s
}

// url is the switch's base URL.
func (s *tcpSwitch) url() string { return "http://" + s.addr }

// on listens again on the switch's address.
func (s *tcpSwitch) on() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("switching the relay to Keycloak back on at %s: %w", s.addr, err)
	}
	s.serveLocked(ln)
	return nil
}

// off closes the listener and every relayed connection.
func (s *tcpSwitch) off() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		c.Close()
	}
}

func (s *tcpSwitch) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serveLocked(ln)
}

func (s *tcpSwitch) serveLocked(ln net.Listener) {
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.relay(ln, c) }()
		}
	}()
}

// relay copies bytes both ways between c and Keycloak until either side
// closes or the switch goes off.
func (s *tcpSwitch) relay(ln net.Listener, c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", s.target)
	if err != nil {
		return
	}
	defer up.Close()
	s.mu.Lock()
	if s.ln != ln { // switched off (and maybe on again) since c was accepted
		s.mu.Unlock()
		return
	}
	s.conns[c], s.conns[up] = struct{}{}, struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		delete(s.conns, up)
		s.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}
