package automation_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
)

// versionAPI is a stand-in for a cloud's version API: it answers each path with a body,
// and records what it was asked.
type versionAPI struct {
	mu       sync.Mutex
	Requests []*http.Request
	answer   func(r *http.Request) (int, string)
}

func (c *versionAPI) serve(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.Requests = append(c.Requests, r.Clone(context.Background()))
		c.mu.Unlock()
		status, body := c.answer(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A GKE serverConfig answer, as the API returns it: full versions, newest first; node
// versions reach further back than control-plane ones.
const gkeServerConfig = `{
  "defaultClusterVersion": "1.31.6-gke.1020000",
  "validNodeVersions": ["1.32.2-gke.1182001", "1.31.6-gke.1020000", "1.31.5-gke.1233000", "1.30.10-gke.1070000", "1.29.14-gke.1018000", "1.28.15-gke.2015000"],
  "defaultImageType": "COS_CONTAINERD",
  "validImageTypes": ["COS_CONTAINERD", "UBUNTU_CONTAINERD", "WINDOWS_LTSC_CONTAINERD"],
  "validMasterVersions": ["1.33.0-gke.1276000", "1.32.2-gke.1182001", "1.31.6-gke.1020000", "1.30.10-gke.1070000", "1.29.14-gke.1018000"],
  "channels": [
    {"channel": "RAPID", "defaultVersion": "1.32.2-gke.1182001", "validVersions": ["1.33.0-gke.1276000", "1.32.2-gke.1182001"], "upgradeTargetVersion": "1.32.2-gke.1182001"},
    {"channel": "REGULAR", "defaultVersion": "1.31.6-gke.1020000", "validVersions": ["1.32.2-gke.1182001", "1.31.6-gke.1020000", "1.31.5-gke.1233000"], "upgradeTargetVersion": "1.31.6-gke.1020000"},
    {"channel": "STABLE", "defaultVersion": "1.30.10-gke.1070000", "validVersions": ["1.31.5-gke.1233000", "1.30.10-gke.1070000"], "upgradeTargetVersion": "1.30.10-gke.1070000"}
  ]
}`

func TestGKEVersions(t *testing.T) {
	t.Parallel()
	api := &versionAPI{answer: func(r *http.Request) (int, string) {
		if r.URL.Path != "/v1/projects/acme-prod/locations/us-central1/serverConfig" {
			return http.StatusNotFound, `{"error": {"code": 404, "message": "Not found: location \"mars1\".", "status": "NOT_FOUND"}}`
		}
		if r.Header.Get("Authorization") != "Bearer ya29.token" {
			return http.StatusUnauthorized, `{"error": {"code": 401, "message": "Request is missing required authentication credential.", "status": "UNAUTHENTICATED"}}`
		}
		return http.StatusOK, gkeServerConfig
	}}
	srv := api.serve(t)
	token := func(context.Context) (string, error) { return "ya29.token", nil }
	g := &automation.GKEVersions{Project: "acme-prod", BaseURL: srv.URL, Client: srv.Client(), Token: token}

	vs, err := g.OfferedVersions(context.Background(), "gcp", "us-central1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.29", "1.30", "1.31", "1.32"}, vs, "1.33 has no node version yet and 1.28 no control plane")
	require.Len(t, api.Requests, 1)
	assert.Equal(t, http.MethodGet, api.Requests[0].Method)
	assert.Equal(t, "application/json", api.Requests[0].Header.Get("Accept"))

	g.Channel = "regular"
	vs, err = g.OfferedVersions(context.Background(), "gcp", "us-central1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.31", "1.32"}, vs, "a channel offers its own versions")
	g.Channel = "EXTENDED"
	_, err = g.OfferedVersions(context.Background(), "gcp", "us-central1")
	assert.EqualError(t, err, `gcp/us-central1: GKE's serverConfig has no release channel "EXTENDED"`)
	g.Channel = ""

	_, err = g.OfferedVersions(context.Background(), "gcp", "mars1")
	assert.EqualError(t, err, `gcp/mars1: asking GKE which versions it offers: GET `+srv.URL+`/v1/projects/acme-prod/locations/mars1/serverConfig: 404 Not Found: Not found: location "mars1".`)
	g.Token = nil
	_, err = g.OfferedVersions(context.Background(), "gcp", "us-central1")
	assert.ErrorContains(t, err, "401 Unauthorized: Request is missing required authentication credential.")
	_, err = (&automation.GKEVersions{BaseURL: srv.URL}).OfferedVersions(context.Background(), "gcp", "us-central1")
	assert.EqualError(t, err, "gcp/us-central1: the GKE version catalog needs the project's id")
}

// An AKS kubernetesVersions answer (api-version 2024-02-01): minors with their patches,
// support plans and preview flags.
const aksKubernetesVersions = `{
  "values": [
    {"version": "1.27", "capabilities": {"supportPlan": ["AKSLongTermSupport"]},
     "patchVersions": {"1.27.100": {"upgrades": ["1.27.101", "1.28.100"]}, "1.27.101": {"upgrades": ["1.28.100"]}}},
    {"version": "1.29", "capabilities": {"supportPlan": ["KubernetesOfficial", "AKSLongTermSupport"]},
     "patchVersions": {"1.29.13": {"upgrades": ["1.29.14", "1.30.10"]}, "1.29.14": {"upgrades": ["1.30.10"]}}},
    {"version": "1.30", "isDefault": true, "capabilities": {"supportPlan": ["KubernetesOfficial", "AKSLongTermSupport"]},
     "patchVersions": {"1.30.9": {"upgrades": ["1.30.10", "1.31.6"]}, "1.30.10": {"upgrades": ["1.31.6"]}}},
    {"version": "1.31", "capabilities": {"supportPlan": ["KubernetesOfficial"]},
     "patchVersions": {"1.31.6": {"upgrades": ["1.32.2"]}}},
    {"version": "1.32", "isPreview": true, "capabilities": {"supportPlan": ["KubernetesOfficial"]},
     "patchVersions": {"1.32.2": {"upgrades": []}}}
  ]
}`

func TestAKSVersions(t *testing.T) {
	t.Parallel()
	const sub = "00000000-0000-0000-0000-000000000000"
	api := &versionAPI{answer: func(r *http.Request) (int, string) {
		switch {
		case r.URL.Path != "/subscriptions/"+sub+"/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions":
			return http.StatusNotFound, `{"error": {"code": "NoRegisteredProviderFound", "message": "No registered resource provider found for location 'mars'."}}`
		case r.URL.Query().Get("api-version") != automation.AKSAPIVersion:
			return http.StatusBadRequest, `{"error": {"code": "InvalidApiVersionParameter", "message": "The api-version is invalid."}}`
		case r.Header.Get("Authorization") != "Bearer eyJ0eXAi":
			return http.StatusUnauthorized, `{"error": {"code": "AuthenticationFailed", "message": "Authentication failed. The 'Authorization' header is missing."}}`
		}
		return http.StatusOK, aksKubernetesVersions
	}}
	srv := api.serve(t)
	a := &automation.AKSVersions{Subscription: sub, BaseURL: srv.URL, Client: srv.Client(),
		Token: func(context.Context) (string, error) { return "eyJ0eXAi", nil }}

	vs, err := a.OfferedVersions(context.Background(), "azure", "eastus")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.29", "1.30", "1.31"}, vs, "neither the preview nor the LTS-only minor")
	a.IncludePreview, a.LongTermSupport = true, true
	vs, err = a.OfferedVersions(context.Background(), "azure", "eastus")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.27", "1.29", "1.30", "1.31", "1.32"}, vs)

	_, err = a.OfferedVersions(context.Background(), "azure", "mars")
	assert.EqualError(t, err, `azure/mars: asking AKS which versions it offers: GET `+srv.URL+`/subscriptions/`+sub+`/providers/Microsoft.ContainerService/locations/mars/kubernetesVersions: 404 Not Found: No registered resource provider found for location 'mars'.`)
	a.Token = nil
	_, err = a.OfferedVersions(context.Background(), "azure", "eastus")
	assert.ErrorContains(t, err, "401 Unauthorized: Authentication failed.")
}

// DescribeClusterVersions answers, over two pages.
const (
	eksPage1 = `{
  "clusterVersions": [
    {"clusterType": "eks", "clusterVersion": "1.33", "defaultPlatformVersion": "eks.6", "defaultVersion": false,
     "endOfExtendedSupportDate": 1814400000, "endOfStandardSupportDate": 1782864000, "kubernetesPatchVersion": "1.33.1",
     "releaseDate": 1748304000, "status": "standard-support", "versionStatus": "STANDARD_SUPPORT"},
    {"clusterType": "eks", "clusterVersion": "1.32", "defaultPlatformVersion": "eks.10", "defaultVersion": true,
     "endOfExtendedSupportDate": 1805414400, "endOfStandardSupportDate": 1774137600, "kubernetesPatchVersion": "1.32.5",
     "releaseDate": 1737590400, "status": "standard-support", "versionStatus": "STANDARD_SUPPORT"}
  ],
  "nextToken": "eyJleGNsdXNpdmVTdGFydEtleSI6IjEuMzIifQ=="
}`
	eksPage2 = `{
  "clusterVersions": [
    {"clusterType": "eks", "clusterVersion": "1.29", "defaultPlatformVersion": "eks.37", "defaultVersion": false,
     "endOfExtendedSupportDate": 1774137600, "endOfStandardSupportDate": 1742601600, "kubernetesPatchVersion": "1.29.15",
     "releaseDate": 1706054400, "status": "extended-support", "versionStatus": "EXTENDED_SUPPORT"},
    {"clusterType": "eks", "clusterVersion": "1.23", "defaultPlatformVersion": "eks.20", "defaultVersion": false,
     "endOfExtendedSupportDate": 1726099200, "endOfStandardSupportDate": 1697068800, "kubernetesPatchVersion": "1.23.17",
     "releaseDate": 1660003200, "status": "unsupported", "versionStatus": "UNSUPPORTED"}
  ]
}`
)

func TestEKSVersions(t *testing.T) {
	t.Parallel()
	api := &versionAPI{answer: func(r *http.Request) (int, string) {
		if r.URL.Path != "/cluster-versions" || r.URL.Query().Get("clusterType") != "eks" {
			return http.StatusBadRequest, `{"message": "unexpected request"}`
		}
		switch r.URL.Query().Get("nextToken") {
		case "":
			return http.StatusOK, eksPage1
		case "eyJleGNsdXNpdmVTdGFydEtleSI6IjEuMzIifQ==":
			return http.StatusOK, eksPage2
		}
		return http.StatusBadRequest, `{"message": "Invalid pagination token"}`
	}}
	srv := api.serve(t)
	e := &automation.EKSVersions{BaseURL: srv.URL, Client: srv.Client()}

	vs, err := e.OfferedVersions(context.Background(), "aws", "us-east-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.29", "1.32", "1.33"}, vs, "standard and extended support, not unsupported")
	require.Len(t, api.Requests, 2, "both pages")
	assert.Equal(t, "100", api.Requests[0].URL.Query().Get("maxResults"))

	denied := &versionAPI{answer: func(*http.Request) (int, string) {
		return http.StatusForbidden, `{"message": "The security token included in the request is invalid."}`
	}}
	dsrv := denied.serve(t)
	_, err = (&automation.EKSVersions{BaseURL: dsrv.URL, Client: dsrv.Client()}).OfferedVersions(context.Background(), "aws", "us-east-1")
	assert.EqualError(t, err, "aws/us-east-1: asking EKS which versions it offers: GET "+dsrv.URL+"/cluster-versions: 403 Forbidden: The security token included in the request is invalid.")
}

func TestCatalogsAskEachCloudItsOwn(t *testing.T) {
	t.Parallel()
	var asked []string
	catalog := func(name string, vs ...string) automation.VersionCatalog {
		return automation.VersionCatalogFunc(func(_ context.Context, cloud, region string) ([]string, error) {
			asked = append(asked, name+":"+cloud+"/"+region)
			return vs, nil
		})
	}
	c := automation.Catalogs{"aws": catalog("eks", "1.32"), "sim": catalog("sim", "1.33")}
	vs, err := c.OfferedVersions(context.Background(), "aws", "us-east-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.32"}, vs)
	vs, err = c.OfferedVersions(context.Background(), "sim", "sim-east-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.33"}, vs)
	assert.Equal(t, []string{"eks:aws/us-east-1", "sim:sim/sim-east-1"}, asked)

	_, err = c.OfferedVersions(context.Background(), "gcp", "us-central1")
	assert.EqualError(t, err, `gcp/us-central1: no version catalog for cloud "gcp" (catalogs: aws, sim)`)
}
