package automation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Catalogs is the VersionCatalog of a fleet across clouds: each cloud (as the stack's
// "clusters" output names it: "aws", "gcp", "azure", "sim") answers through its own
// catalog.
//
//	catalog := automation.Catalogs{
//		"gcp":   &automation.GKEVersions{Project: "acme-prod", Client: googleClient},
//		"azure": &automation.AKSVersions{Subscription: sub, Client: azureClient},
//		"aws":   &automation.EKSVersions{Client: sigV4Client},
//	}
//	d, err := automation.New(automation.WithVersionCatalog(catalog))
type Catalogs map[string]VersionCatalog

// OfferedVersions asks the catalog of cloud.
func (c Catalogs) OfferedVersions(ctx context.Context, cloud, region string) ([]string, error) {
	cat, ok := c[cloud]
	if !ok {
		known := make([]string, 0, len(c))
		for k := range c {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("%s/%s: no version catalog for cloud %q (catalogs: %s)", cloud, region, cloud, strings.Join(known, ", "))
	}
	return cat.OfferedVersions(ctx, cloud, region)
}

// restCatalog is what the clouds' version APIs share: an HTTP client that carries the
// credentials, an optional bearer token, and a base URL tests point at a local server.
type restCatalog struct {
	client *http.Client
	token  func(ctx context.Context) (string, error)
}

// getJSON GETs u and decodes a 200 answer into out; any other status is an error with
// the cloud's own message.
func (r restCatalog) getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if r.token != nil {
		tok, err := r.token(ctx)
		if err != nil {
			return fmt.Errorf("getting a token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	client := r.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("GET %s: reading the answer: %w", redact(u), err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", redact(u), resp.Status, cloudMessage(body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: decoding the answer: %w", redact(u), err)
	}
	return nil
}

// redact drops a URL's query, where a pagination token may sit.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// cloudMessage reads the message of a cloud's error answer: Google's and Azure's
// {"error": {"message"}}, AWS's {"message"} (or "Message"), else the body itself.
func cloudMessage(body []byte) string {
	var e struct {
		Error *struct {
			Code    any    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	if json.Unmarshal(body, &e) == nil {
		switch {
		case e.Error != nil && e.Error.Message != "":
			return e.Error.Message
		case e.Message != "":
			return e.Message
		case e.MessageU != "":
			return e.MessageU
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// offeredMinors reduces full versions to their minors, oldest first, each once. Versions that
// are not Kubernetes versions are skipped.
func offeredMinors(versions []string) []string {
	seen := map[Minor]bool{}
	var ms []Minor
	for _, v := range versions {
		m, err := ParseMinor(v)
		if err != nil || seen[m] {
			continue
		}
		seen[m] = true
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Less(ms[j]) })
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// GKEVersions is GKE's version catalog, read from a location's serverConfig
// (https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations/getServerConfig).
// A minor is offered when both the control plane and the nodes may run it
// (validMasterVersions and validNodeVersions), or, for clusters enrolled in a release
// channel, when the channel's validVersions list it.
type GKEVersions struct {
	Project string
	// Channel is the release channel the clusters are enrolled in ("RAPID", "REGULAR",
	// "STABLE", "EXTENDED"); empty for clusters in no channel, as Flotilla makes them.
	Channel string
	// BaseURL defaults to https://container.googleapis.com.
	BaseURL string
	// Client carries the Google credentials (e.g. golang.org/x/oauth2/google's
	// DefaultClient); Token, when set, adds a bearer token to each request.
	Client *http.Client
	Token  func(ctx context.Context) (string, error)
}

var _ VersionCatalog = (*GKEVersions)(nil)

type gkeServerConfig struct {
	DefaultClusterVersion string   `json:"defaultClusterVersion"`
	ValidMasterVersions   []string `json:"validMasterVersions"`
	ValidNodeVersions     []string `json:"validNodeVersions"`
	Channels              []struct {
		Channel        string   `json:"channel"`
		DefaultVersion string   `json:"defaultVersion"`
		ValidVersions  []string `json:"validVersions"`
	} `json:"channels"`
}

// OfferedVersions asks GKE which minors location offers now.
func (g *GKEVersions) OfferedVersions(ctx context.Context, cloud, location string) ([]string, error) {
	if g.Project == "" {
		return nil, fmt.Errorf("%s/%s: the GKE version catalog needs the project's id", cloud, location)
	}
	base := strings.TrimRight(g.BaseURL, "/")
	if base == "" {
		base = "https://container.googleapis.com"
	}
	u := fmt.Sprintf("%s/v1/projects/%s/locations/%s/serverConfig", base, url.PathEscape(g.Project), url.PathEscape(location))
	var sc gkeServerConfig
	if err := (restCatalog{client: g.Client, token: g.Token}).getJSON(ctx, u, &sc); err != nil {
		return nil, fmt.Errorf("%s/%s: asking GKE which versions it offers: %w", cloud, location, err)
	}
	if g.Channel != "" {
		for _, ch := range sc.Channels {
			if strings.EqualFold(ch.Channel, g.Channel) {
				return offeredMinors(ch.ValidVersions), nil
			}
		}
		return nil, fmt.Errorf("%s/%s: GKE's serverConfig has no release channel %q", cloud, location, g.Channel)
	}
	nodes := map[string]bool{}
	for _, m := range offeredMinors(sc.ValidNodeVersions) {
		nodes[m] = true
	}
	var out []string
	for _, m := range offeredMinors(sc.ValidMasterVersions) {
		if nodes[m] {
			out = append(out, m)
		}
	}
	return out, nil
}

// AKSAPIVersion is the api-version of the AKS resource provider the catalog asks.
const AKSAPIVersion = "2024-02-01"

// AKSVersions is AKS's version catalog, read from a location's kubernetesVersions
// (https://learn.microsoft.com/rest/api/aks/managed-clusters/list-kubernetes-versions).
// A minor is offered when it is generally available (not isPreview) under the standard
// support plan (KubernetesOfficial); a minor offered only with long-term support needs
// the Premium tier and counts only with LongTermSupport.
type AKSVersions struct {
	Subscription string
	// IncludePreview counts preview minors as offered.
	IncludePreview bool
	// LongTermSupport counts minors offered only under AKSLongTermSupport.
	LongTermSupport bool
	// BaseURL defaults to https://management.azure.com.
	BaseURL string
	// Client carries the Azure credentials; Token, when set, adds a bearer token (an
	// Entra ID token for https://management.azure.com/) to each request.
	Client *http.Client
	Token  func(ctx context.Context) (string, error)
}

var _ VersionCatalog = (*AKSVersions)(nil)

type aksVersionList struct {
	Values []struct {
		Version      string `json:"version"`
		IsDefault    bool   `json:"isDefault"`
		IsPreview    bool   `json:"isPreview"`
		Capabilities struct {
			SupportPlan []string `json:"supportPlan"`
		} `json:"capabilities"`
		PatchVersions map[string]struct {
			Upgrades []string `json:"upgrades"`
		} `json:"patchVersions"`
	} `json:"values"`
}

// OfferedVersions asks AKS which minors location offers now.
func (a *AKSVersions) OfferedVersions(ctx context.Context, cloud, location string) ([]string, error) {
	if a.Subscription == "" {
		return nil, fmt.Errorf("%s/%s: the AKS version catalog needs the subscription's id", cloud, location)
	}
	base := strings.TrimRight(a.BaseURL, "/")
	if base == "" {
		base = "https://management.azure.com"
	}
	u := fmt.Sprintf("%s/subscriptions/%s/providers/Microsoft.ContainerService/locations/%s/kubernetesVersions?api-version=%s",
		base, url.PathEscape(a.Subscription), url.PathEscape(location), AKSAPIVersion)
	var list aksVersionList
	if err := (restCatalog{client: a.Client, token: a.Token}).getJSON(ctx, u, &list); err != nil {
		return nil, fmt.Errorf("%s/%s: asking AKS which versions it offers: %w", cloud, location, err)
	}
	var vs []string
	for _, v := range list.Values {
		if v.IsPreview && !a.IncludePreview {
			continue
		}
		plans := v.Capabilities.SupportPlan
		official := len(plans) == 0
		for _, p := range plans {
			if p == "KubernetesOfficial" || (a.LongTermSupport && p == "AKSLongTermSupport") {
				official = true
			}
		}
		if official {
			vs = append(vs, v.Version)
		}
	}
	return offeredMinors(vs), nil
}

// EKSVersions is EKS's version catalog, read with DescribeClusterVersions
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeClusterVersions.html).
// A minor is offered while EKS supports it, in standard or extended support.
type EKSVersions struct {
	// BaseURL defaults to the region's endpoint, https://eks.<region>.amazonaws.com.
	BaseURL string
	// Client must sign each request with AWS Signature Version 4 for the "eks" service
	// (e.g. a transport around aws-sdk-go-v2's v4 signer).
	Client *http.Client
}

var _ VersionCatalog = (*EKSVersions)(nil)

type eksClusterVersions struct {
	ClusterVersions []struct {
		ClusterType            string `json:"clusterType"`
		ClusterVersion         string `json:"clusterVersion"`
		DefaultVersion         bool   `json:"defaultVersion"`
		KubernetesPatchVersion string `json:"kubernetesPatchVersion"`
		Status                 string `json:"status"` // deprecated for versionStatus
		VersionStatus          string `json:"versionStatus"`
	} `json:"clusterVersions"`
	NextToken string `json:"nextToken"`
}

// OfferedVersions asks EKS which minors region offers now, page by page.
func (e *EKSVersions) OfferedVersions(ctx context.Context, cloud, region string) ([]string, error) {
	base := strings.TrimRight(e.BaseURL, "/")
	if base == "" {
		base = fmt.Sprintf("https://eks.%s.amazonaws.com", region)
	}
	var vs []string
	token := ""
	for page := 0; ; page++ {
		if page == 100 {
			return nil, fmt.Errorf("%s/%s: DescribeClusterVersions did not stop paginating after %d pages", cloud, region, page)
		}
		q := url.Values{"clusterType": {"eks"}, "maxResults": {"100"}}
		if token != "" {
			q.Set("nextToken", token)
		}
		var out eksClusterVersions
		if err := (restCatalog{client: e.Client}).getJSON(ctx, base+"/cluster-versions?"+q.Encode(), &out); err != nil {
			return nil, fmt.Errorf("%s/%s: asking EKS which versions it offers: %w", cloud, region, err)
		}
		for _, v := range out.ClusterVersions {
			status := v.VersionStatus
			if status == "" {
				status = v.Status
			}
			if !strings.EqualFold(strings.ReplaceAll(status, "-", "_"), "UNSUPPORTED") {
				vs = append(vs, v.ClusterVersion)
			}
		}
		if out.NextToken == "" {
			return offeredMinors(vs), nil
		}
		token = out.NextToken
	}
}
