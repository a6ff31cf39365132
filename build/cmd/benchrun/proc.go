package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// Linux fixes it at 100 for user space on every architecture Envoy ships for.
const clockTicks = 100

// cpuTime returns the user plus system CPU time a process has used so far,
// summed over all its threads, from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, errors.New("benchrun: cannot read the CPU time of process " + strconv.Itoa(pid) + ": " + err.Error())
	}
	return parseStat(string(b))
}

// parseStat extracts utime+stime from the contents of /proc/<pid>/stat. The
// command name (field 2) is in parentheses and may contain spaces, so fields
// are counted after the last ')'.
func parseStat(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("benchrun: /proc stat line has no command name")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("benchrun: /proc stat line is too short")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("benchrun: /proc stat line has non-numeric utime or stime")
	}
	return time.Duration(u+st) * time.Second / clockTicks, nil
}

// process is a proxy under test (Envoy or tokengate-proxy).
type process struct {
	name string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// startProcess runs bin with args, its output in dir/<name>.log, with env
// added to this process's environment.
func startProcess(name, dir string, env []string, bin string, args ...string) (*process, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, errors.New("benchrun: cannot start " + bin + ": " + err.Error())
	}
	p := &process{name: name, cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// log returns the tail of the process's output, for error messages.
func (p *process) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, p.name+".log"))
	s := string(b)
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return s
}

// stop interrupts the process and kills it if it has not exited in 10 s.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady polls url until it answers with status want, or fails after
// timeout or when the process exits.
func (p *process) waitReady(url string, header [2]string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return errors.New("benchrun: " + p.name + " exited during start-up:\n" + p.log())
		default:
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		if header[0] != "" {
			req.Header.Set(header[0], header[1])
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			last = resp.Status + " " + string(body)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("benchrun: " + p.name + " did not answer " + url + " with " + strconv.Itoa(want) +
		" in " + timeout.String() + " (last: " + last + "):\n" + p.log())
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
