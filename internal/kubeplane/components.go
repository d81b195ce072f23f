package kubeplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The binaries of a plane, in start order. The first two start one after the other; the
// last three only need kube-apiserver and start together.
const (
	etcd              = "etcd"
	apiServer         = "kube-apiserver"
	scheduler         = "kube-scheduler"
	controllerManager = "kube-controller-manager"
	kwok              = "kwok"
)

var (
	components = []string{etcd, apiServer, scheduler, controllerManager, kwok}
	clientSide = []string{scheduler, controllerManager, kwok}
)

const (
	// stagesFile is kwok's stage configuration, written into bin/ by `make kube`.
	stagesFile  = "kwok-stages.yaml"
	serviceCIDR = "10.96.0.0/16"
)

// probeClient checks health endpoints on loopback, anonymously. Their certificates are
// self-signed, and a request without credentials has nothing to protect by verifying them.
var probeClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health probes
}

func (p *plane) path(elem ...string) string {
	return filepath.Join(append([]string{p.dir}, elem...)...)
}

func (p *plane) logFile(component string) string {
	return p.path("logs", component+".log")
}

func loopbackURL(scheme string, port int) string {
	return scheme + "://127.0.0.1:" + strconv.Itoa(port)
}

// args returns the command line of one component of the plane.
func (p *plane) args(component string) []string {
	pt := p.state.Ports
	switch component {
	case etcd:
		client, peer := loopbackURL("http", pt.Etcd), loopbackURL("http", pt.EtcdPeer)
		return []string{
			"--name=default", "--data-dir=" + p.path("etcd"),
			"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=default=" + peer,
			// The plane's data only has to survive its processes, not the machine.
			"--unsafe-no-fsync=true",
			"--log-level=warn",
		}
	case apiServer:
		return []string{
			"--etcd-servers=" + loopbackURL("http", pt.Etcd),
			"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(pt.APIServer),
			// Generates a self-signed serving certificate once and reuses it after restarts.
			"--cert-dir=" + p.path("certs"),
			"--token-auth-file=" + p.path("tokens.csv"),
			"--authorization-mode=Node,RBAC",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + p.path("sa.pub"),
			"--service-account-signing-key-file=" + p.path("sa.key"),
			"--service-cluster-ip-range=" + serviceCIDR,
			"--allow-privileged=true",
			// The loopback address cannot be advertised as the kubernetes Service's endpoint.
			"--endpoint-reconciler-type=none",
		}
	case scheduler:
		return []string{
			"--kubeconfig=" + p.path("kubeconfig"),
			"--leader-elect=false",
			"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(pt.Scheduler),
			"--cert-dir=" + p.path("scheduler-certs"),
		}
	case controllerManager:
		return []string{
			"--kubeconfig=" + p.path("kubeconfig"),
			"--leader-elect=false",
			"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(pt.ControllerManager),
			"--cert-dir=" + p.path("controller-manager-certs"),
			"--service-account-private-key-file=" + p.path("sa.key"),
			"--root-ca-file=" + p.path("ca.crt"),
			"--kube-api-qps=1000", "--kube-api-burst=1000",
		}
	case kwok:
		return []string{
			"--kubeconfig=" + p.path("kubeconfig"),
			"--config=" + p.path(stagesFile),
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + kwokAnnotation + "=" + kwokAnnotationValue,
			"--server-address=127.0.0.1:" + strconv.Itoa(pt.Kwok),
			"--node-ip=10.1.0.1", "--cidr=10.0.0.0/16",
			"--node-lease-duration-seconds=40",
		}
	}
	panic("kubeplane: unknown component " + component)
}

// probe checks once whether a component of the plane serves.
func (p *plane) probe(ctx context.Context, component string) error {
	pt := p.state.Ports
	switch component {
	case etcd:
		return get(ctx, loopbackURL("http", pt.Etcd)+"/health", `"health":"true"`)
	case apiServer:
		return get(ctx, loopbackURL("https", pt.APIServer)+"/readyz", "ok")
	case scheduler:
		return get(ctx, loopbackURL("https", pt.Scheduler)+"/healthz", "ok")
	case controllerManager:
		if err := get(ctx, loopbackURL("https", pt.ControllerManager)+"/healthz", "ok"); err != nil {
			return err
		}
		// Pods cannot be created until the service-account controller made "default".
		if p.client == nil {
			return errors.New("no client for the plane yet")
		}
		_, err := p.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("service account default/default: %w", err)
		}
		return nil
	case kwok:
		return get(ctx, loopbackURL("http", pt.Kwok)+"/healthz", "ok")
	}
	return fmt.Errorf("unknown component %q", component)
}

func get(ctx context.Context, url, want string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
