package cloud

import (
	"fmt"
	"sort"
	"strings"
)

// InstanceType is a machine type the simulated cloud sells, with its capacity and prices.
type InstanceType struct {
	Name     string  `json:"name"`
	MilliCPU int64   `json:"milliCPU"`
	MemoryGi int64   `json:"memoryGi"`
	MaxPods  int64   `json:"maxPods"`
	OnDemand float64 `json:"onDemand"` // US dollars per hour
	Spot     float64 `json:"spot"`     // US dollars per hour, about 60-70% below on-demand
}

// MemoryBytes returns the type's memory in bytes.
func (t InstanceType) MemoryBytes() int64 { return t.MemoryGi << 30 }

// Price returns the hourly price of one node of this type for a capacity type.
func (t InstanceType) Price(capacityType string) float64 {
	if capacityType == Spot {
		return t.Spot
	}
	return t.OnDemand
}

// instanceTypes are the sim's own types plus common AWS, GCP and Azure names, so that a
// program written for a real cloud runs unchanged on the simulator. Prices are list
// prices of a typical US region; max pods follow each cloud's defaults (ENI limits on AWS).
var instanceTypes = map[string]InstanceType{}

func init() {
	for _, t := range []InstanceType{
		{"sim.small", 2000, 4, 110, 0.0416, 0.0135},
		{"sim.medium", 2000, 8, 110, 0.0832, 0.0270},
		{"sim.large", 4000, 16, 110, 0.1664, 0.0541},
		{"sim.xlarge", 8000, 32, 110, 0.3328, 0.1082},
		{"m6i.large", 2000, 8, 29, 0.096, 0.0336},
		{"m6i.xlarge", 4000, 16, 58, 0.192, 0.0672},
		{"m6i.2xlarge", 8000, 32, 58, 0.384, 0.1344},
		{"c6i.xlarge", 4000, 8, 58, 0.170, 0.0595},
		{"c6i.2xlarge", 8000, 16, 58, 0.340, 0.1190},
		{"m5.large", 2000, 8, 29, 0.096, 0.0365},
		{"m5.xlarge", 4000, 16, 58, 0.192, 0.0730},
		{"r6i.large", 2000, 16, 29, 0.126, 0.0441},
		{"t3.large", 2000, 8, 35, 0.0832, 0.0250},
		{"n2-standard-2", 2000, 8, 110, 0.0971, 0.0340},
		{"n2-standard-4", 4000, 16, 110, 0.1942, 0.0680},
		{"n2-standard-8", 8000, 32, 110, 0.3885, 0.1360},
		{"e2-standard-4", 4000, 16, 110, 0.1340, 0.0469},
		{"e2-standard-8", 8000, 32, 110, 0.2681, 0.0938},
		{"c2-standard-8", 8000, 32, 110, 0.4176, 0.1295},
		{"Standard_D2s_v5", 2000, 8, 110, 0.096, 0.0336},
		{"Standard_D4s_v5", 4000, 16, 110, 0.192, 0.0672},
		{"Standard_D8s_v5", 8000, 32, 110, 0.384, 0.1344},
		{"Standard_E4s_v5", 4000, 32, 110, 0.252, 0.0882},
		{"Standard_F8s_v2", 8000, 16, 110, 0.338, 0.1183},
	} {
		instanceTypes[t.Name] = t
	}
}

// LookupInstanceType returns the instance type called name.
func LookupInstanceType(name string) (InstanceType, error) {
	t, ok := instanceTypes[name]
	if !ok {
		return InstanceType{}, fmt.Errorf("instance type %q is not sold by the simulated cloud (known: %s)", name, joinQuoted(InstanceTypeNames()))
	}
	return t, nil
}

// InstanceTypeNames returns the names of every instance type, sorted.
func InstanceTypeNames() []string {
	names := make([]string, 0, len(instanceTypes))
	for n := range instanceTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// InstanceTypes returns every instance type, sorted by name.
func InstanceTypes() []InstanceType {
	out := make([]InstanceType, 0, len(instanceTypes))
	for _, n := range InstanceTypeNames() {
		out = append(out, instanceTypes[n])
	}
	return out
}

// ControlPlaneHourly is the price of one cluster's control plane, as EKS and GKE charge.
const ControlPlaneHourly = 0.10

func joinQuoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
