package cloud

import (
	"fmt"
	"maps"
	"slices"
)

// Fault kinds, as the sim command names them.
const (
	FaultSpotShortage   = "spot-shortage"
	FaultUpgradeFailure = "upgrade-failure"
	FaultAPIErrors      = "api-errors"
	FaultUnoffer        = "unoffer"
)

// AddSpotShortage makes spot capacity run out in region, or only in zone when given.
func (s *State) AddSpotShortage(region, zone string) error {
	if !IsRegion(region) {
		return Errorf(InvalidArgument, "spot shortage: %q is not a region of the simulated cloud (regions: %s)", region, joinQuoted(regions))
	}
	if zone != "" && !slices.Contains(Zones(region), zone) {
		return Errorf(InvalidArgument, "spot shortage: %q is not a zone of %s (zones: %s)", zone, region, joinQuoted(Zones(region)))
	}
	sh := SpotShortage{Region: region, Zone: zone}
	if !slices.Contains(s.Faults.SpotShortages, sh) {
		s.Faults.SpotShortages = append(s.Faults.SpotShortages, sh)
	}
	return nil
}

// AddUpgradeFailure makes every control-plane upgrade of a cluster fail, until cleared.
// cluster is a name, "<region>/<name>" or an id; it need not exist yet.
func (s *State) AddUpgradeFailure(cluster string) error {
	if cluster == "" {
		return Errorf(InvalidArgument, "upgrade failure: name the cluster whose upgrades should fail")
	}
	if !slices.Contains(s.Faults.UpgradeFailures, cluster) {
		s.Faults.UpgradeFailures = append(s.Faults.UpgradeFailures, cluster)
	}
	return nil
}

// SetAPIErrors makes a fraction rate (0 to 1) of API requests fail with a throttling
// error, drawn from a generator seeded with seed.
func (s *State) SetAPIErrors(rate float64, seed int64) error {
	if rate < 0 || rate > 1 {
		return Errorf(InvalidArgument, "api errors: rate %v must be between 0 and 1", rate)
	}
	s.Faults.APIErrorRate, s.Faults.APIErrorSeed = rate, seed
	return nil
}

// Unoffer makes region stop offering version.
func (s *State) Unoffer(region, version string) error {
	if !IsRegion(region) {
		return Errorf(InvalidArgument, "unoffer: %q is not a region of the simulated cloud (regions: %s)", region, joinQuoted(regions))
	}
	if _, err := ParseMinor(version); err != nil {
		return Errorf(InvalidArgument, "unoffer: %v", err)
	}
	u := Unoffered{Region: region, Version: version}
	if !slices.Contains(s.Faults.Unoffered, u) {
		s.Faults.Unoffered = append(s.Faults.Unoffered, u)
	}
	return nil
}

// FaultFilter selects faults to clear. An empty Kind clears every fault; the other
// fields, when set, narrow the kind's faults down.
type FaultFilter struct {
	Kind    string `json:"kind,omitempty"`
	Region  string `json:"region,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Cluster string `json:"cluster,omitempty"`
	Version string `json:"version,omitempty"`
}

// ClearFaults removes the faults f selects and returns how many it removed.
func (s *State) ClearFaults(f FaultFilter) (int, error) {
	n := 0
	all := f.Kind == ""
	switch f.Kind {
	case "", FaultSpotShortage, FaultUpgradeFailure, FaultAPIErrors, FaultUnoffer:
	default:
		return 0, Errorf(InvalidArgument, "unknown fault kind %q (kinds: %s)", f.Kind, joinQuoted([]string{FaultSpotShortage, FaultUpgradeFailure, FaultAPIErrors, FaultUnoffer}))
	}
	if all || f.Kind == FaultSpotShortage {
		s.Faults.SpotShortages = slices.DeleteFunc(s.Faults.SpotShortages, func(sh SpotShortage) bool {
			hit := (f.Region == "" || sh.Region == f.Region) && (f.Zone == "" || sh.Zone == f.Zone)
			if hit {
				n++
			}
			return hit
		})
	}
	if all || f.Kind == FaultUpgradeFailure {
		s.Faults.UpgradeFailures = slices.DeleteFunc(s.Faults.UpgradeFailures, func(c string) bool {
			hit := f.Cluster == "" || c == f.Cluster
			if hit {
				n++
			}
			return hit
		})
	}
	if (all || f.Kind == FaultAPIErrors) && s.Faults.APIErrorRate != 0 {
		s.Faults.APIErrorRate, s.Faults.APIErrorSeed = 0, 0
		n++
	}
	if all || f.Kind == FaultUnoffer {
		s.Faults.Unoffered = slices.DeleteFunc(s.Faults.Unoffered, func(u Unoffered) bool {
			hit := (f.Region == "" || u.Region == f.Region) && (f.Version == "" || u.Version == f.Version)
			if hit {
				n++
			}
			return hit
		})
	}
	return n, nil
}

// ClusterDrift is an out-of-band change to a cluster, made as if in the cloud's console:
// it bypasses Pulumi and takes effect at once. Nil fields stay unchanged.
type ClusterDrift struct {
	Tags    map[string]string `json:"tags,omitempty"`
	Version string            `json:"version,omitempty"`
	Delete  bool              `json:"delete,omitempty"`
}

// NodePoolDrift is an out-of-band change to a node pool. Nil fields stay unchanged.
type NodePoolDrift struct {
	DesiredSize *int              `json:"desiredSize,omitempty"`
	MinSize     *int              `json:"minSize,omitempty"`
	MaxSize     *int              `json:"maxSize,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Version     string            `json:"version,omitempty"`
	Delete      bool              `json:"delete,omitempty"`
}

// DriftCluster applies an out-of-band change to the cluster ref names. The cloud's rules
// still hold (an upgrade moves one minor); deleting also deletes the cluster's pools.
func (s *State) DriftCluster(ref string, d ClusterDrift) error {
	c, err := s.ClusterByRef(ref)
	if err != nil {
		return err
	}
	if err := s.busy(c); err != nil {
		return err
	}
	what := fmt.Sprintf("cluster %q", c.Name)
	if d.Delete {
		for _, p := range s.PoolsOf(c.ID) {
			delete(s.Pools, p.ID)
		}
		c.Status = StatusDeleting
		return nil
	}
	if d.Version != "" && d.Version != c.Version {
		if err := CheckUpgrade(c, d.Version, s.PoolsOf(c.ID)); err != nil {
			return err
		}
		if err := s.checkOffered(what, c.Region, d.Version); err != nil {
			return err
		}
		c.Version = d.Version
	}
	if d.Tags != nil {
		var fe FieldErrors
		checkTags(&fe, d.Tags)
		if err := fe.Err(what); err != nil {
			return err
		}
		c.Tags = maps.Clone(d.Tags)
	}
	return nil
}

// DriftNodePool applies an out-of-band change to the node pool ref names (an id or
// "<cluster>/<pool>"), such as an operator scaling it by hand.
func (s *State) DriftNodePool(ref string, d NodePoolDrift) error {
	p, err := s.PoolByRef(ref)
	if err != nil {
		return err
	}
	c := s.Clusters[p.ClusterID]
	if err := s.busy(c); err != nil {
		return err
	}
	if d.Delete {
		delete(s.Pools, p.ID)
		return nil
	}
	next := p.NodePoolSpec
	if d.DesiredSize != nil {
		next.DesiredSize = *d.DesiredSize
	}
	if d.MinSize != nil {
		next.MinSize = *d.MinSize
	}
	if d.MaxSize != nil {
		next.MaxSize = *d.MaxSize
	}
	if d.Tags != nil {
		next.Tags = maps.Clone(d.Tags)
	}
	if d.Labels != nil {
		next.Labels = maps.Clone(d.Labels)
	}
	if d.Version != "" {
		next.Version = d.Version
	}
	what := fmt.Sprintf("node pool %q", p.Name)
	if err := next.Validate().Err(what); err != nil {
		return err
	}
	if next.Version != p.Version {
		if err := CheckPoolVersion(p.Name, c.Version, next.Version, p.Version); err != nil {
			return err
		}
	}
	p.NodePoolSpec = next
	return nil
}
