package stream

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Check is a readiness check: nil means ready. It must return within ctx
// (at most 2 s from /readyz).
type Check func(ctx context.Context) error

// HTTPHandler returns the HTTP handler of the observability endpoints:
//
//	/metrics  Prometheus text exposition of g
//	/healthz  200 "ok" while the process serves HTTP (liveness)
//	/readyz   200 "ready" when every check returns nil within 2 s, else 503
//	          with the first error (e.g. Processor.Ready: connected to the
//	          brokers; a detect worker adds "models loaded")
func HTTPHandler(g prometheus.Gatherer, checks ...Check) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for _, c := range checks {
			if err := c(ctx); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

// Serve listens on addr and serves HTTPHandler(g, checks...) until ctx is
// cancelled, then shuts the server down (5 s grace). It returns nil after a
// shutdown caused by ctx, or the listen/serve error. An empty addr serves
// nothing and returns nil when ctx is done.
func Serve(ctx context.Context, addr string, g prometheus.Gatherer, log zerolog.Logger, checks ...Check) error {
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, g, log, checks...)
}

// GoServe runs Serve on its own goroutine for a worker's lifetime (until
// ctx is done) and logs its error (a port in use, ...) instead of
// returning it: the worker goes on without its observability endpoint.
func GoServe(ctx context.Context, addr string, g prometheus.Gatherer, log zerolog.Logger, checks ...Check) {
	go func() {
		if err := Serve(ctx, addr, g, log, checks...); err != nil {
			log.Error().Err(err).Msg("observability server")
		}
	}()
}

// ServeListener is Serve on an existing listener (tests listen on port 0).
func ServeListener(ctx context.Context, ln net.Listener, g prometheus.Gatherer, log zerolog.Logger, checks ...Check) error {
	srv := &http.Server{Handler: HTTPHandler(g, checks...), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info().Str("addr", ln.Addr().String()).Msg("serving /metrics, /healthz, /readyz")
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return err
}
