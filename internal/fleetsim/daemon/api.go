package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// maxInUseWait is how long a request waits for a busy cluster before it answers
// ResourceInUse (clients retry on it).
const maxInUseWait = 20 * time.Second

// maxOpWait bounds a long poll on an operation.
const maxOpWait = 30 * time.Second

func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	cloudAPI := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !d.allowRequest() {
				writeErr(w, cloud.Errorf(cloud.Throttling, "Throttling: rate exceeded (the api-errors fault is in force); retry with backoff"))
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /v1/health", d.health)
	mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, _ *http.Request) {
		st, _ := d.snapshot()
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /v1/shutdown", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"pid": os.Getpid()})
		d.Shutdown()
	})

	mux.HandleFunc("GET /v1/clusters", cloudAPI(func(w http.ResponseWriter, _ *http.Request) {
		st, _ := d.snapshot()
		writeJSON(w, http.StatusOK, st.SortedClusters())
	}))
	mux.HandleFunc("GET /v1/clusters/{ref...}", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		st, _ := d.snapshot()
		c, err := st.ClusterByRef(r.PathValue("ref"))
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	}))
	mux.HandleFunc("POST /v1/clusters", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		var req cloud.CreateClusterRequest
		if !readJSON(w, r, &req) {
			return
		}
		d.mutate(w, r, func(s *cloud.State, env cloud.Env) (*cloud.Operation, error) {
			return s.CreateCluster(env, req.Spec, req.Token)
		})
	}))
	mux.HandleFunc("PUT /v1/clusters/{id}", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		var spec cloud.ClusterSpec
		if !readJSON(w, r, &spec) {
			return
		}
		d.mutate(w, r, func(s *cloud.State, env cloud.Env) (*cloud.Operation, error) {
			return s.UpdateCluster(env, r.PathValue("id"), spec)
		})
	}))
	mux.HandleFunc("DELETE /v1/clusters/{id}", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		d.mutate(w, r, func(s *cloud.State, env cloud.Env) (*cloud.Operation, error) {
			return s.DeleteCluster(env, r.PathValue("id"))
		})
	}))

	mux.HandleFunc("GET /v1/pools", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		st, _ := d.snapshot()
		var ids []string
		if ref := r.URL.Query().Get("cluster"); ref != "" {
			c, err := st.ClusterByRef(ref)
			if err != nil {
				writeErr(w, err)
				return
			}
			ids = []string{c.ID}
		} else {
			for _, c := range st.SortedClusters() {
				ids = append(ids, c.ID)
			}
		}
		pools := []*cloud.NodePool{}
		for _, id := range ids {
			pools = append(pools, st.PoolsOf(id)...)
		}
		writeJSON(w, http.StatusOK, pools)
	}))
	mux.HandleFunc("GET /v1/pools/{ref...}", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		st, _ := d.snapshot()
		p, err := st.PoolByRef(r.PathValue("ref"))
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	}))
	mux.HandleFunc("POST /v1/pools", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		var req cloud.CreateNodePoolRequest
		if !readJSON(w, r, &req) {
			return
		}
		d.mutate(w, r, func(s *cloud.State, env cloud.Env) (*cloud.Operation, error) {
			return s.CreateNodePool(env, req.Spec, req.Token)
		})
	}))
	mux.HandleFunc("PUT /v1/pools/{id}", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		var spec cloud.NodePoolSpec
		if !readJSON(w, r, &spec) {
			return
		}
		d.mutate(w, r, func(s *cloud.State, env cloud.Env) (*cloud.Operation, error) {
			return s.UpdateNodePool(env, r.PathValue("id"), spec)
		})
	}))
	mux.HandleFunc("DELETE /v1/pools/{id}", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		d.mutate(w, r, func(s *cloud.State, env cloud.Env) (*cloud.Operation, error) {
			return s.DeleteNodePool(env, r.PathValue("id"))
		})
	}))
	mux.HandleFunc("GET /v1/operations/{id}", cloudAPI(d.operation))
	mux.HandleFunc("GET /v1/regions/{region}/versions", cloudAPI(func(w http.ResponseWriter, r *http.Request) {
		region := r.PathValue("region")
		if !cloud.IsRegion(region) {
			writeErr(w, cloud.Errorf(cloud.NotFound, "%q is not a region of the simulated cloud (regions: %s)", region, strings.Join(cloud.Regions(), ", ")))
			return
		}
		st, _ := d.snapshot()
		vs := st.OfferedVersions(region)
		if vs == nil {
			vs = []string{} // every version unoffered: an empty list, not null
		}
		writeJSON(w, http.StatusOK, cloud.OfferedVersionsResponse{Region: region, Versions: vs, Default: cloud.DefaultVersion})
	}))

	// Faults and out-of-band changes are the operator's console: never throttled.
	mux.HandleFunc("POST /v1/faults/spot-shortage", func(w http.ResponseWriter, r *http.Request) {
		var req cloud.SpotShortage
		if readJSON(w, r, &req) {
			d.change(w, func(s *cloud.State) error { return s.AddSpotShortage(req.Region, req.Zone) })
		}
	})
	mux.HandleFunc("POST /v1/faults/upgrade-failure", func(w http.ResponseWriter, r *http.Request) {
		var req cloud.UpgradeFailureRequest
		if readJSON(w, r, &req) {
			d.change(w, func(s *cloud.State) error { return s.AddUpgradeFailure(req.Cluster) })
		}
	})
	mux.HandleFunc("POST /v1/faults/api-errors", func(w http.ResponseWriter, r *http.Request) {
		var req cloud.APIErrorsRequest
		if readJSON(w, r, &req) {
			d.change(w, func(s *cloud.State) error { return s.SetAPIErrors(req.Rate, req.Seed) })
		}
	})
	mux.HandleFunc("POST /v1/faults/unoffer", func(w http.ResponseWriter, r *http.Request) {
		var req cloud.Unoffered
		if readJSON(w, r, &req) {
			d.change(w, func(s *cloud.State) error { return s.Unoffer(req.Region, req.Version) })
		}
	})
	mux.HandleFunc("POST /v1/faults/clear", func(w http.ResponseWriter, r *http.Request) {
		var req cloud.FaultFilter
		if !readJSON(w, r, &req) {
			return
		}
		n := 0
		err := d.commit(func(s *cloud.State, _ cloud.Env) error {
			var err error
			n, err = s.ClearFaults(req)
			return err
		})
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, cloud.ClearFaultsResponse{Cleared: n})
	})
	mux.HandleFunc("POST /v1/drift/clusters/{ref...}", func(w http.ResponseWriter, r *http.Request) {
		var req cloud.ClusterDrift
		if readJSON(w, r, &req) {
			d.change(w, func(s *cloud.State) error { return s.DriftCluster(r.PathValue("ref"), req) })
		}
	})
	mux.HandleFunc("POST /v1/drift/pools/{ref...}", func(w http.ResponseWriter, r *http.Request) {
		var req cloud.NodePoolDrift
		if readJSON(w, r, &req) {
			d.change(w, func(s *cloud.State) error { return s.DriftNodePool(r.PathValue("ref"), req) })
		}
	})
	return mux
}

func (d *Daemon) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, cloud.Health{
		Version: cloud.Version, PID: os.Getpid(), Addr: d.Addr(), Home: d.opts.Home, Started: d.started,
		Kube: d.kubeMode(), Durations: d.opts.Durations, TimeScale: d.opts.TimeScale,
	})
}

// mutate starts a long-running change. While another operation runs on the same cluster
// it waits (without the lock) for the state to change, so that concurrent callers on one
// cluster are served one after the other while other clusters proceed.
func (d *Daemon) mutate(w http.ResponseWriter, r *http.Request, fn func(*cloud.State, cloud.Env) (*cloud.Operation, error)) {
	deadline := time.NewTimer(maxInUseWait)
	defer deadline.Stop()
	for {
		var op *cloud.Operation
		changed, err := d.commitWait(func(s *cloud.State, env cloud.Env) error {
			var err error
			op, err = fn(s, env)
			return err
		})
		if err == nil {
			writeJSON(w, http.StatusAccepted, op)
			return
		}
		if !cloud.IsResourceInUse(err) {
			writeErr(w, err)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			writeErr(w, err)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// change applies an instant change (a fault, an out-of-band edit) and answers with the
// resulting state.
func (d *Daemon) change(w http.ResponseWriter, fn func(*cloud.State) error) {
	if err := d.commit(func(s *cloud.State, _ cloud.Env) error { return fn(s) }); err != nil {
		writeErr(w, err)
		return
	}
	st, _ := d.snapshot()
	writeJSON(w, http.StatusOK, st)
}

// operation answers an operation, waiting up to ?wait= (a Go duration) for it to finish.
func (d *Daemon) operation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	wait := time.Duration(0)
	if v := r.URL.Query().Get("wait"); v != "" {
		x, err := time.ParseDuration(v)
		if err != nil {
			writeErr(w, cloud.Errorf(cloud.InvalidArgument, "wait=%q: use a Go duration such as 10s", v))
			return
		}
		wait = min(x, maxOpWait)
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	for {
		st, changed := d.snapshot()
		op, ok := st.Operations[id]
		if !ok {
			writeErr(w, cloud.Errorf(cloud.NotFound, "operation %q not found", id))
			return
		}
		if op.Done() {
			writeJSON(w, http.StatusOK, op)
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			if r.Context().Err() == nil {
				writeJSON(w, http.StatusOK, op)
			}
			return
		}
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeErr(w, cloud.Errorf(cloud.InvalidArgument, "malformed request body: %v", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// httpStatus maps the cloud's error codes to HTTP statuses, as REST clouds do.
var httpStatus = map[cloud.Code]int{
	cloud.InvalidArgument:    http.StatusBadRequest,
	cloud.NotFound:           http.StatusNotFound,
	cloud.AlreadyExists:      http.StatusConflict,
	cloud.FailedPrecondition: http.StatusPreconditionFailed,
	cloud.ResourceInUse:      http.StatusConflict,
	cloud.Throttling:         http.StatusTooManyRequests,
	cloud.OperationFailed:    http.StatusInternalServerError,
	cloud.Internal:           http.StatusInternalServerError,
}

func writeErr(w http.ResponseWriter, err error) {
	var ce *cloud.Error
	if !errors.As(err, &ce) {
		ce = cloud.Errorf(cloud.Internal, "%v", err)
	} else if ce.Message != err.Error() {
		// Keep the context wrapped around the cloud's error.
		ce = &cloud.Error{Code: ce.Code, Message: err.Error()}
	}
	status, ok := httpStatus[ce.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, cloud.ErrorResponse{Error: ce})
}
