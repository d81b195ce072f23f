package pulumitest

import (
	"encoding/base64"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The values FakeClouds answers with.
const (
	FakeGCPProject      = "flotilla-test"
	FakeGKEVersion      = "1.31.4-gke.1000"
	FakeGKEEndpoint     = "34.1.2.3"
	FakeCAData          = "Q0FEQVRB"
	FakeEKSSecurityGrp  = "sg-0cluster"
	FakeAKSKubeconfig   = "apiVersion: v1\nkind: Config\nclusters:\n- name: aks\n"
	fakeEKSClusterToken = "aws:eks/cluster:Cluster"
	fakeGKEClusterToken = "gcp:container/cluster:Cluster"
)

// FakeClouds makes m answer what AWS, GCP and Azure compute for a managed cluster, so
// that programs which read those values run under the mocks: generated cluster names,
// endpoints and certificate data (EKS, GKE, AKS), GKE's master version, AKS agent pool
// names, the node service account's email, the GCP project (organizations/getClientConfig) and the AKS cluster
// user's kubeconfig (containerservice:listManagedClusterUserCredentials). It returns m.
func (m *Mocks) FakeClouds() *Mocks {
	m.Outputs[fakeEKSClusterToken] = func(r Resource) resource.PropertyMap {
		vpc := resource.PropertyMap{}
		if v, ok := r.Inputs["vpcConfig"]; ok && v.IsObject() {
			vpc = v.ObjectValue().Copy()
		}
		vpc["clusterSecurityGroupId"] = resource.NewProperty(FakeEKSSecurityGrp)
		return resource.PropertyMap{
			"name":                 resource.NewProperty(r.Name + "-7d1e"),
			"endpoint":             resource.NewProperty(fmt.Sprintf("https://%s.gr7.eks.amazonaws.com", r.Name)),
			"certificateAuthority": resource.NewProperty(resource.PropertyMap{"data": resource.NewProperty(FakeCAData)}),
			"vpcConfig":            resource.NewProperty(vpc),
		}
	}
	m.Outputs[fakeGKEClusterToken] = func(r Resource) resource.PropertyMap {
		return resource.PropertyMap{
			"name":          resource.NewProperty(r.Name + "-5c2a"),
			"endpoint":      resource.NewProperty(FakeGKEEndpoint),
			"masterVersion": resource.NewProperty(FakeGKEVersion),
			"masterAuth":    resource.NewProperty(resource.PropertyMap{"clusterCaCertificate": resource.NewProperty(FakeCAData)}),
		}
	}
	m.Outputs["gcp:serviceaccount/account:Account"] = func(r Resource) resource.PropertyMap {
		id := ""
		if v, ok := r.Inputs["accountId"]; ok && v.IsString() {
			id = v.StringValue()
		}
		return resource.PropertyMap{"email": resource.NewProperty(id + "@" + FakeGCPProject + ".iam.gserviceaccount.com")}
	}
	m.Outputs["azure-native:resources:ResourceGroup"] = func(r Resource) resource.PropertyMap {
		return resource.PropertyMap{"name": resource.NewProperty(r.Name + "1a2b")}
	}
	m.Outputs["azure-native:containerservice:ManagedCluster"] = func(r Resource) resource.PropertyMap {
		return resource.PropertyMap{
			"name": resource.NewProperty(r.Name + "9f3c"),
			"fqdn": resource.NewProperty(r.Name + ".hcp.azmk8s.io"),
		}
	}
	// An agent pool's name is its agentPoolName.
	m.Outputs["azure-native:containerservice:AgentPool"] = func(r Resource) resource.PropertyMap {
		if v, ok := r.Inputs["agentPoolName"]; ok {
			return resource.PropertyMap{"name": v}
		}
		return nil
	}
	m.Calls["gcp:organizations/getClientConfig:getClientConfig"] = func(resource.PropertyMap) (resource.PropertyMap, error) {
		return resource.PropertyMap{"project": resource.NewProperty(FakeGCPProject)}, nil
	}
	m.Calls["azure-native:containerservice:listManagedClusterUserCredentials"] = func(resource.PropertyMap) (resource.PropertyMap, error) {
		return resource.PropertyMap{"kubeconfigs": resource.NewProperty([]resource.PropertyValue{
			resource.NewProperty(resource.PropertyMap{
				"name":  resource.NewProperty("clusterUser"),
				"value": resource.NewProperty(base64.StdEncoding.EncodeToString([]byte(FakeAKSKubeconfig))),
			}),
		})}, nil
	}
	return m
}
