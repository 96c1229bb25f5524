package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/services/internal/web"
)

// TestSlowBodyIsCut: a body sent a byte every 100 ms is cut at the read
// timeout; the connection does not outlive it.
func TestSlowBodyIsCut(t *testing.T) {
	limits := HTTPLimits{ReadTimeout: 500 * time.Millisecond}
	read := make(chan error, 1)
	srv := limits.server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		err := web.Decode(r, &v, false)
		read <- err
		web.WriteError(w, r, err)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	require.NoError(t, err)
	go func() {
		for range 100 {
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	select {
	case err := <-read:
		assert.Error(t, err, "the body was read to its end")
	case <-time.After(3 * time.Second):
		t.Fatal("the slow body was not cut")
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = io.ReadAll(bufio.NewReader(conn))
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the connection outlived the read timeout: %v", err)
	assert.Less(t, time.Since(start), 2500*time.Millisecond)
}

// TestBound: requests beyond MaxConcurrent get a 503 at once, each
// request's context has the deadline.
func TestBound(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	h := HTTPLimits{MaxConcurrent: 2, RequestTimeout: time.Minute}.bound(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline, ok := r.Context().Deadline()
		assert.True(t, ok)
		assert.WithinDuration(t, time.Now().Add(time.Minute), deadline, 5*time.Second)
		if r.URL.Path == "/hold" {
			started.Done()
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/hold")
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, http.StatusNoContent, resp.StatusCode)
			}
		}()
	}
	started.Wait()
	resp, err := http.Get(srv.URL + "/more")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.True(t, strings.Contains(string(body), "too many requests"), string(body))
	close(release)
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	expired := HTTPLimits{RequestTimeout: 10 * time.Millisecond}.bound(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			w.WriteHeader(http.StatusGatewayTimeout)
		case <-ctx.Done():
			w.WriteHeader(http.StatusOK)
		}
	}))
	rec := httptest.NewRecorder()
	expired.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code, "the request's deadline ended its work")
}
