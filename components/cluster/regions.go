package cluster

import (
	"slices"
	"sort"

	simcloud "github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// zoneTable lists, per cloud and region, the zones Flotilla knows. Regions missing here
// are refused by validation: a cluster must be able to spread over at least two zones.
var zoneTable = map[Cloud]map[string][]string{
	AWS: {
		"us-east-1":      suffixed("us-east-1", "a", "b", "c", "d", "e", "f"),
		"us-east-2":      suffixed("us-east-2", "a", "b", "c"),
		"us-west-1":      suffixed("us-west-1", "a", "c"),
		"us-west-2":      suffixed("us-west-2", "a", "b", "c", "d"),
		"ca-central-1":   suffixed("ca-central-1", "a", "b", "d"),
		"sa-east-1":      suffixed("sa-east-1", "a", "b", "c"),
		"eu-west-1":      suffixed("eu-west-1", "a", "b", "c"),
		"eu-west-2":      suffixed("eu-west-2", "a", "b", "c"),
		"eu-west-3":      suffixed("eu-west-3", "a", "b", "c"),
		"eu-central-1":   suffixed("eu-central-1", "a", "b", "c"),
		"eu-north-1":     suffixed("eu-north-1", "a", "b", "c"),
		"eu-south-1":     suffixed("eu-south-1", "a", "b", "c"),
		"ap-south-1":     suffixed("ap-south-1", "a", "b", "c"),
		"ap-southeast-1": suffixed("ap-southeast-1", "a", "b", "c"),
		"ap-southeast-2": suffixed("ap-southeast-2", "a", "b", "c"),
		"ap-northeast-1": suffixed("ap-northeast-1", "a", "c", "d"),
		"ap-northeast-2": suffixed("ap-northeast-2", "a", "b", "c", "d"),
	},
	GCP: {
		"us-central1":             suffixed("us-central1", "-a", "-b", "-c", "-f"),
		"us-east1":                suffixed("us-east1", "-b", "-c", "-d"),
		"us-east4":                suffixed("us-east4", "-a", "-b", "-c"),
		"us-west1":                suffixed("us-west1", "-a", "-b", "-c"),
		"us-west2":                suffixed("us-west2", "-a", "-b", "-c"),
		"northamerica-northeast1": suffixed("northamerica-northeast1", "-a", "-b", "-c"),
		"southamerica-east1":      suffixed("southamerica-east1", "-a", "-b", "-c"),
		"europe-west1":            suffixed("europe-west1", "-b", "-c", "-d"),
		"europe-west2":            suffixed("europe-west2", "-a", "-b", "-c"),
		"europe-west3":            suffixed("europe-west3", "-a", "-b", "-c"),
		"europe-west4":            suffixed("europe-west4", "-a", "-b", "-c"),
		"europe-north1":           suffixed("europe-north1", "-a", "-b", "-c"),
		"asia-east1":              suffixed("asia-east1", "-a", "-b", "-c"),
		"asia-northeast1":         suffixed("asia-northeast1", "-a", "-b", "-c"),
		"asia-southeast1":         suffixed("asia-southeast1", "-a", "-b", "-c"),
		"asia-south1":             suffixed("asia-south1", "-a", "-b", "-c"),
		"australia-southeast1":    suffixed("australia-southeast1", "-a", "-b", "-c"),
	},
	// Azure availability zones are numbered per region; only regions with zones are listed.
	Azure: {
		"eastus":             azureZones,
		"eastus2":            azureZones,
		"centralus":          azureZones,
		"southcentralus":     azureZones,
		"westus2":            azureZones,
		"westus3":            azureZones,
		"canadacentral":      azureZones,
		"brazilsouth":        azureZones,
		"northeurope":        azureZones,
		"westeurope":         azureZones,
		"uksouth":            azureZones,
		"francecentral":      azureZones,
		"germanywestcentral": azureZones,
		"swedencentral":      azureZones,
		"centralindia":       azureZones,
		"japaneast":          azureZones,
		"koreacentral":       azureZones,
		"southeastasia":      azureZones,
		"australiaeast":      azureZones,
	},
	Sim: {
		"sim-east-1":    suffixed("sim-east-1", "a", "b", "c"),
		"sim-west-1":    suffixed("sim-west-1", "a", "b", "c"),
		"sim-central-1": suffixed("sim-central-1", "a", "b", "c"),
		"sim-eu-1":      suffixed("sim-eu-1", "a", "b", "c"),
		"sim-ap-1":      suffixed("sim-ap-1", "a", "b", "c"),
	},
}

var azureZones = []string{"1", "2", "3"}

// defaultZoneCount is how many zones a cluster spreads over when Args.Zones is empty: enough
// for a prod cluster, which needs three.
const defaultZoneCount = 3

func suffixed(region string, suffixes ...string) []string {
	out := make([]string, len(suffixes))
	for i, s := range suffixes {
		out[i] = region + s
	}
	return out
}

// Regions returns the regions Flotilla can place a cluster in on cloud, sorted; nil for an
// unknown cloud.
func Regions(cloud Cloud) []string {
	table, ok := zoneTable[cloud]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(table))
	for r := range table {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// DefaultZones returns the zones a cluster in region uses when Args.Zones is empty: the
// region's first three (all of them where it has fewer); nil for an unknown region.
func DefaultZones(cloud Cloud, region string) []string {
	zones := zoneTable[cloud][region]
	if len(zones) > defaultZoneCount {
		zones = zones[:defaultZoneCount]
	}
	return slices.Clone(zones)
}

// knownZone reports whether zone is one of region's zones.
func knownZone(cloud Cloud, region, zone string) bool {
	return slices.Contains(zoneTable[cloud][region], zone)
}

// OfferedVersions returns the Kubernetes minors a cluster in region can run, oldest
// first, where Flotilla knows them: the simulator's, which are fixed per region. It
// returns nil for the managed clouds, whose offers change with every release and are
// checked by the cloud itself, and for an unknown region.
func OfferedVersions(cloud Cloud, region string) []string {
	if cloud != Sim {
		return nil
	}
	return simcloud.OfferedVersions(region)
}
