package cluster

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// execUser is a kubeconfig user that gets its token from a credential plugin.
type execUser struct {
	Command            string   `yaml:"command"`
	Args               []string `yaml:"args,omitempty"`
	InstallHint        string   `yaml:"installHint,omitempty"`
	ProvideClusterInfo bool     `yaml:"provideClusterInfo,omitempty"`
}

// execKubeconfig renders a kubeconfig for one cluster whose user authenticates through a
// credential plugin (aws eks get-token, gke-gcloud-auth-plugin), so it holds no secret
// of its own; it is still exported as a secret, like every kubeconfig.
func execKubeconfig(name, server, caData string, user execUser) (string, error) {
	return renderExecKubeconfig(name, map[string]any{
		"server":                     server,
		"certificate-authority-data": caData,
	}, user)
}

// execKubeconfigFrom renders a kubeconfig that keeps the first cluster of the kubeconfig
// raw (its name, server and CA, as the cloud wrote them) and replaces its users with one
// that gets its token from a credential plugin. Nothing else of raw is kept, so no
// credential it held reaches the result.
func execKubeconfigFrom(raw []byte, user execUser) (string, error) {
	var doc struct {
		Clusters []struct {
			Name    string         `yaml:"name"`
			Cluster map[string]any `yaml:"cluster"`
		} `yaml:"clusters"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", fmt.Errorf("kubeconfig: %w", err)
	}
	if len(doc.Clusters) == 0 || doc.Clusters[0].Name == "" {
		return "", errors.New("kubeconfig: it names no cluster")
	}
	c := doc.Clusters[0]
	if c.Cluster == nil {
		c.Cluster = map[string]any{}
	}
	return renderExecKubeconfig(c.Name, c.Cluster, user)
}

// renderExecKubeconfig renders a kubeconfig with one cluster, context and exec user, all named name.
func renderExecKubeconfig(name string, cluster map[string]any, user execUser) (string, error) {
	type named struct {
		Name string         `yaml:"name"`
		Item map[string]any `yaml:",inline"`
	}
	exec := map[string]any{
		"apiVersion":      "client.authentication.k8s.io/v1beta1",
		"command":         user.Command,
		"interactiveMode": "Never",
	}
	if len(user.Args) > 0 {
		exec["args"] = user.Args
	}
	if user.InstallHint != "" {
		exec["installHint"] = user.InstallHint
	}
	if user.ProvideClusterInfo {
		exec["provideClusterInfo"] = true
	}
	doc := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": name,
		"clusters":        []named{{Name: name, Item: map[string]any{"cluster": cluster}}},
		"contexts": []named{{Name: name, Item: map[string]any{"context": map[string]any{
			"cluster": name,
			"user":    name,
		}}}},
		"users": []named{{Name: name, Item: map[string]any{"user": map[string]any{"exec": exec}}}},
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("kubeconfig: %w", err)
	}
	return string(out), nil
}
