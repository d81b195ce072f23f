package cluster

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The cluster-autoscaler chart Flotilla installs on EKS. The image follows the cluster's
// Kubernetes minor, as the autoscaler's compatibility policy asks.
const (
	autoscalerChart        = "cluster-autoscaler"
	autoscalerChartVersion = "9.44.0"
	autoscalerChartRepo    = "https://kubernetes.github.io/autoscaler"
	autoscalerAccount      = "cluster-autoscaler"
)

// autoscalerPatches is the cluster-autoscaler patch release Flotilla runs for each
// Kubernetes minor: one table for every cluster that deploys the autoscaler. Each is a
// release tag of kubernetes/autoscaler (cluster-autoscaler-<version>), e.g.
// https://github.com/kubernetes/autoscaler/releases/tag/cluster-autoscaler-1.31.5; the
// .0 of a minor misses its fixes, such as the Pod Identity credentials of 1.28.
var autoscalerPatches = map[string]string{
	"1.28": "1.28.4",
	"1.29": "1.29.2",
	"1.30": "1.30.2",
	"1.31": "1.31.5",
	"1.32": "1.32.4",
	"1.33": "1.33.2",
	"1.34": "1.34.1",
}

// autoscalerImageTag is the autoscaler image for a control plane at minor: the table's
// patch, or for a minor newer than the table its first release, the only one known.
func autoscalerImageTag(minor string) string {
	if v, ok := autoscalerPatches[minor]; ok {
		return "v" + v
	}
	return "v" + minor + ".0"
}

// How the autoscaler scales down, which is what moves pods off fallback nodes once spot
// is back: a node requested below the threshold for the unneeded time is drained when
// its pods fit on other nodes, and they are rescheduled by priority, spot first
// (https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md#how-does-scale-down-work).
// Above the autoscaler's defaults (10m, 0.5) so that a half-full fallback node drains too.
const (
	autoscalerScaleDownUnneeded    = "5m"
	autoscalerScaleDownUtilization = "0.7"
)

// eksSupportType is the EKS cluster's upgrade policy. With STANDARD, EKS upgrades a
// control plane on its own when its minor reaches the end of standard support, which
// would compete with Flotilla's rollout; with EXTENDED the cluster stays on its minor
// and enters extended support instead
// (https://docs.aws.amazon.com/eks/latest/userguide/view-upgrade-policy.html). The cost:
// a cluster in extended support is billed $0.60 per cluster-hour instead of $0.10
// (https://aws.amazon.com/eks/pricing/), so a fleet that lags the EKS calendar pays
// six times the control-plane price until Flotilla upgrades it. A cluster merely set to
// EXTENDED and still in standard support pays the standard price.
const eksSupportType = "EXTENDED"

// eksIMDSHopLimit is the instance metadata hop limit of every node: 1 keeps IMDS on the node.
const eksIMDSHopLimit = 1

// eksLogTypes are the control-plane logs an EKS cluster sends to CloudWatch: all of them.
var eksLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// Managed policies of the cluster and node roles, as EKS documents them.
var (
	eksClusterPolicies = []string{"AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"}
	eksNodePolicies    = []string{
		"AmazonEKSWorkerNodePolicy",
		"AmazonEKS_CNI_Policy",
		"AmazonEC2ContainerRegistryReadOnly",
		"AmazonSSMManagedInstanceCore",
	}
)

// AWSCluster is what node groups on an EKS cluster attach to.
type AWSCluster struct {
	Cluster  *eks.Cluster
	NodeRole *iam.Role
	// PrivateSubnetIDs maps each of the cluster's zones to its private subnet, where nodes run.
	PrivateSubnetIDs map[string]pulumi.IDOutput
	// NodeDependencies must exist before a node boots: the VPC CNI's custom networking and
	// the node role's policies. A node group depends on them.
	NodeDependencies []pulumi.Resource
}

// NodeLaunchTemplate registers the launch template of one of the cluster's node groups.
// Its tag specifications carry tags to the instances, volumes and network interfaces the
// group launches: EKS does not propagate a node group's tags to them (pulumi-eks#635).
func (a *AWSCluster) NodeLaunchTemplate(ctx *pulumi.Context, name string, tags map[string]string, opts ...pulumi.ResourceOption) (*ec2.LaunchTemplate, error) {
	var specs ec2.LaunchTemplateTagSpecificationArray
	for _, kind := range []string{"instance", "volume", "network-interface"} {
		specs = append(specs, &ec2.LaunchTemplateTagSpecificationArgs{
			ResourceType: pulumi.String(kind),
			Tags:         pulumi.ToStringMap(tags),
		})
	}
	lt, err := ec2.NewLaunchTemplate(ctx, name, &ec2.LaunchTemplateArgs{
		TagSpecifications: specs,
		// IMDSv2 only, with a hop limit of 1: a pod's packets cross one more hop, so no pod
		// reads the node role's credentials. Nothing needs them: the autoscaler uses Pod
		// Identity and aws-node runs on the host network
		// (https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html#_restrict_access_to_the_instance_profile_assigned_to_the_worker_node).
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(eksIMDSHopLimit),
		},
		UpdateDefaultVersion: pulumi.Bool(true),
		Tags:                 pulumi.ToStringMap(tags),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("launch template %q: %w", name, err)
	}
	return lt, nil
}

// NodeGroupLaunchTemplate points a node group at the latest version of lt.
func NodeGroupLaunchTemplate(lt *ec2.LaunchTemplate) *eks.NodeGroupLaunchTemplateArgs {
	return &eks.NodeGroupLaunchTemplateArgs{Id: lt.ID(), Version: pulumi.Sprintf("%d", lt.LatestVersion)}
}

// NodeGroupReplacement is how every Flotilla node group is replaced: the old group is
// deleted before the new one is created. A group's name is fixed, because the cluster's
// priority expander ranks its Auto Scaling group by that name, and a change of instance
// types, subnets or capacity type replaces the group (they are ForceNew in the provider,
// terraform-provider-aws internal/service/eks/node_group.go). Created first, the new
// group would take the old one's name, and EKS refuses it with ResourceInUseException.
// While a spot group is replaced its fallback takes the pods; while the system group is,
// the add-ons wait for its new nodes.
func NodeGroupReplacement() pulumi.ResourceOption { return pulumi.DeleteBeforeReplace(true) }

// NodeGroupUpdateConfig is how every Flotilla node group rolls its nodes in an update,
// an upgrade included: one node unavailable at a time. EKS launches the new nodes before
// it drains the old ones, so one at a time keeps the group's capacity
// (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html).
func NodeGroupUpdateConfig() *eks.NodeGroupUpdateConfigArgs {
	return &eks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)}
}

type awsBackend struct{}

// awsNetwork is a cluster's VPC: per zone, a public subnet (load balancers, NAT), a
// private subnet (nodes) and a pod subnet in the secondary block.
type awsNetwork struct {
	vpc        *ec2.Vpc
	public     []*ec2.Subnet
	private    []*ec2.Subnet
	pods       []*ec2.Subnet
	privateIDs pulumi.StringArray
}

func (awsBackend) provision(ctx *pulumi.Context, c *Cluster, s *spec) error {
	p := inheritedProvider(c, "aws")
	if p == nil {
		created, err := aws.NewProvider(ctx, s.name+"-provider", &aws.ProviderArgs{
			Region: pulumi.String(s.region),
		}, pulumi.Parent(c))
		if err != nil {
			return fmt.Errorf("provider: %w", err)
		}
		p = created
	}
	c.Provider = p
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(p)}

	net, err := newAWSNetwork(ctx, s, opts)
	if err != nil {
		return err
	}

	clusterRole, clusterPolicies, err := newServiceRole(ctx, s, s.name+"-cluster", "eks.amazonaws.com", eksClusterPolicies, opts)
	if err != nil {
		return err
	}
	if s.secretsKey != "" {
		kms, err := iam.NewRolePolicy(ctx, s.name+"-cluster-secrets-key", &iam.RolePolicyArgs{
			Role:   clusterRole.Name,
			Policy: pulumi.String(secretsKeyPolicy(s.secretsKey)),
		}, opts...)
		if err != nil {
			return fmt.Errorf("secrets key policy: %w", err)
		}
		clusterPolicies = append(clusterPolicies, kms)
	}
	nodeRole, nodePolicies, err := newServiceRole(ctx, s, s.name+"-node", "ec2.amazonaws.com", eksNodePolicies, opts)
	if err != nil {
		return err
	}

	subnetIDs := append(pulumi.StringArray{}, net.privateIDs...)
	for _, sn := range net.public {
		subnetIDs = append(subnetIDs, sn.ID().ToStringOutput())
	}
	cl, err := eks.NewCluster(ctx, s.name+"-eks", &eks.ClusterArgs{
		RoleArn:   clusterRole.Arn,
		Version:   pulumi.String(s.version),
		VpcConfig: eksVpcConfig(s, subnetIDs),
		KubernetesNetworkConfig: &eks.ClusterKubernetesNetworkConfigArgs{
			ServiceIpv4Cidr: pulumi.String(s.network.ServiceCIDR),
		},
		EncryptionConfig:       eksEncryptionConfig(s),
		EnabledClusterLogTypes: pulumi.ToStringArray(eksLogTypes),
		UpgradePolicy:          &eks.ClusterUpgradePolicyArgs{SupportType: pulumi.String(eksSupportType)},
		AccessConfig: &eks.ClusterAccessConfigArgs{
			AuthenticationMode:                      pulumi.String("API_AND_CONFIG_MAP"),
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(true),
		},
		Tags: pulumi.ToStringMap(s.cloudTags),
	}, append(opts,
		pulumi.DependsOn(clusterPolicies),
		// A prod control plane is never deleted by an update: EKS has no deletion flag in
		// the pinned provider (pulumi-aws v6.83.4), so Pulumi's protection is the guard.
		pulumi.Protect(s.prod),
	)...)
	if err != nil {
		return fmt.Errorf("eks cluster: %w", err)
	}

	region := s.region
	kubeconfig := pulumi.All(cl.Name, cl.Endpoint, cl.CertificateAuthority.Data()).ApplyT(func(v []any) (string, error) {
		name := v[0].(string)
		return execKubeconfig(name, v[1].(string), deref(v[2]), execUser{
			Command: "aws",
			Args:    []string{"eks", "get-token", "--cluster-name", name, "--region", region},
		})
	}).(pulumi.StringOutput)
	c.Name = cl.Name
	c.Endpoint = cl.Endpoint
	c.Version = cl.Version
	c.AutoUpgrade = cl.UpgradePolicy.SupportType().ApplyT(func(t *string) string {
		return autoUpgrade("EKS support type", deref(t), eksSupportType)
	}).(pulumi.StringOutput)
	// A node group takes a minor ("1.31"); following the cluster's version output, it is
	// updated after the control plane.
	c.NodePoolVersion = cl.Version
	if s.nodeVersion != s.version {
		c.NodePoolVersion = pulumi.String(s.nodeVersion)
	}
	c.Kubeconfig = pulumi.ToSecret(kubeconfig).(pulumi.StringOutput)
	if c.KubeProvider, err = kubernetes.NewProvider(ctx, s.name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig: c.Kubeconfig,
	}, pulumi.Parent(c)); err != nil {
		return fmt.Errorf("kubernetes provider: %w", err)
	}
	kubeOpts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(c.KubeProvider)}

	cniDeps, err := newCustomNetworking(ctx, s, cl, net, opts, kubeOpts)
	if err != nil {
		return err
	}
	c.AWS = &AWSCluster{
		Cluster:          cl,
		NodeRole:         nodeRole,
		PrivateSubnetIDs: map[string]pulumi.IDOutput{},
		NodeDependencies: append(cniDeps, nodePolicies...),
	}
	for i, z := range s.zones {
		c.AWS.PrivateSubnetIDs[z] = net.private[i].ID()
	}

	lt, err := c.AWS.NodeLaunchTemplate(ctx, s.name+"-system", s.cloudTags, opts...)
	if err != nil {
		return err
	}
	system, err := eks.NewNodeGroup(ctx, s.name+"-system", &eks.NodeGroupArgs{
		ClusterName:   cl.Name,
		NodeGroupName: pulumi.String(SystemPoolName),
		NodeRoleArn:   nodeRole.Arn,
		SubnetIds:     net.privateIDs,
		Version:       c.NodePoolVersion,
		CapacityType:  pulumi.String("ON_DEMAND"),
		InstanceTypes: pulumi.StringArray{pulumi.String(s.system.InstanceType)},
		ScalingConfig: &eks.NodeGroupScalingConfigArgs{
			MinSize:     pulumi.Int(s.system.MinSize),
			MaxSize:     pulumi.Int(s.system.MaxSize),
			DesiredSize: pulumi.Int(s.system.MinSize),
		},
		Labels:         pulumi.ToStringMap(systemLabels()),
		LaunchTemplate: NodeGroupLaunchTemplate(lt),
		UpdateConfig:   NodeGroupUpdateConfig(),
		Tags:           pulumi.ToStringMap(s.cloudTags),
	}, append(opts,
		pulumi.DependsOn(c.AWS.NodeDependencies),
		// The autoscaler owns the group's size once it exists.
		pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}),
		NodeGroupReplacement(),
	)...)
	if err != nil {
		return fmt.Errorf("system node group: %w", err)
	}
	c.NodeVersion = system.Version.ApplyT(MinorOf).(pulumi.StringOutput)

	return newEKSAutoscaler(ctx, c, s, cl, system, opts, kubeOpts)
}

// eksVpcConfig is where the EKS API endpoint answers: always inside the VPC, where nodes
// reach it, and publicly unless API.Private, to the allowed ranges only. Without
// publicAccessCidrs EKS opens the public endpoint to 0.0.0.0/0
// (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html).
func eksVpcConfig(s *spec, subnetIDs pulumi.StringArray) *eks.ClusterVpcConfigArgs {
	vc := &eks.ClusterVpcConfigArgs{
		SubnetIds:             subnetIDs,
		EndpointPrivateAccess: pulumi.Bool(true),
		EndpointPublicAccess:  pulumi.Bool(!s.api.Private),
	}
	if !s.api.Private && len(s.allowed) > 0 {
		var cidrs pulumi.StringArray
		for _, p := range s.allowed {
			cidrs = append(cidrs, pulumi.String(p.String()))
		}
		vc.PublicAccessCidrs = cidrs
	}
	return vc
}

// eksEncryptionConfig encrypts the cluster's Secrets with Args.SecretsKey, a KMS key ARN
// (envelope encryption, https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html);
// nil leaves them to EKS's own key. Secrets is the one resource EKS encrypts this way.
func eksEncryptionConfig(s *spec) eks.ClusterEncryptionConfigPtrInput {
	if s.secretsKey == "" {
		return nil
	}
	return &eks.ClusterEncryptionConfigArgs{
		Provider:  &eks.ClusterEncryptionConfigProviderArgs{KeyArn: pulumi.String(s.secretsKey)},
		Resources: pulumi.StringArray{pulumi.String("secrets")},
	}
}

// secretsKeyPolicy lets the cluster role use the secrets key, in case the key's own
// policy does not grant it: the actions EKS calls for envelope encryption.
func secretsKeyPolicy(keyARN string) string {
	doc, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":   "Allow",
			"Action":   []string{"kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"},
			"Resource": keyARN,
		}},
	})
	return string(doc)
}

// newAWSNetwork lays out the VPC. Private subnets take the first eighths of the VPC, one
// per zone; the last eighth is cut into the public subnets. Pod subnets take eighths of
// the secondary block. Prod clusters get a NAT gateway per zone, others share one.
func newAWSNetwork(ctx *pulumi.Context, s *spec, opts []pulumi.ResourceOption) (*awsNetwork, error) {
	tags := func(name string, extra ...string) pulumi.StringMap {
		m := pulumi.ToStringMap(s.cloudTags)
		m["Name"] = pulumi.String(name)
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = pulumi.String(extra[i+1])
		}
		return m
	}
	vpc, err := ec2.NewVpc(ctx, s.name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(s.network.VPCCIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(s.name),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("vpc: %w", err)
	}
	podBlock, err := ec2.NewVpcIpv4CidrBlockAssociation(ctx, s.name+"-pods", &ec2.VpcIpv4CidrBlockAssociationArgs{
		VpcId:     vpc.ID(),
		CidrBlock: pulumi.String(s.network.PodCIDR),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("pod cidr block: %w", err)
	}
	igw, err := ec2.NewInternetGateway(ctx, s.name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags(s.name),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("internet gateway: %w", err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, s.name+"-public", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{
			CidrBlock: pulumi.String("0.0.0.0/0"),
			GatewayId: igw.ID(),
		}},
		Tags: tags(s.name + "-public"),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("public route table: %w", err)
	}

	net := &awsNetwork{vpc: vpc}
	publicBlock := subnet(s.vpc, 3, 7)
	var nat *ec2.NatGateway
	for i, zone := range s.zones {
		pub, err := ec2.NewSubnet(ctx, s.name+"-public-"+zone, &ec2.SubnetArgs{
			VpcId:               vpc.ID(),
			AvailabilityZone:    pulumi.String(zone),
			CidrBlock:           pulumi.String(subnet(publicBlock, 3, i).String()),
			MapPublicIpOnLaunch: pulumi.Bool(true),
			Tags:                tags(s.name+"-public-"+zone, "kubernetes.io/role/elb", "1"),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("public subnet %s: %w", zone, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, s.name+"-public-"+zone, &ec2.RouteTableAssociationArgs{
			SubnetId:     pub.ID(),
			RouteTableId: publicRT.ID(),
		}, opts...); err != nil {
			return nil, fmt.Errorf("public route %s: %w", zone, err)
		}
		if nat == nil || s.prod {
			eip, err := ec2.NewEip(ctx, s.name+"-nat-"+zone, &ec2.EipArgs{
				Domain: pulumi.String("vpc"),
				Tags:   tags(s.name + "-nat-" + zone),
			}, opts...)
			if err != nil {
				return nil, fmt.Errorf("nat address %s: %w", zone, err)
			}
			if nat, err = ec2.NewNatGateway(ctx, s.name+"-nat-"+zone, &ec2.NatGatewayArgs{
				AllocationId: eip.ID(),
				SubnetId:     pub.ID(),
				Tags:         tags(s.name + "-nat-" + zone),
			}, append(opts, pulumi.DependsOn([]pulumi.Resource{igw}))...); err != nil {
				return nil, fmt.Errorf("nat gateway %s: %w", zone, err)
			}
		}
		privateRT, err := ec2.NewRouteTable(ctx, s.name+"-private-"+zone, &ec2.RouteTableArgs{
			VpcId: vpc.ID(),
			Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{
				CidrBlock:    pulumi.String("0.0.0.0/0"),
				NatGatewayId: nat.ID(),
			}},
			Tags: tags(s.name + "-private-" + zone),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("private route table %s: %w", zone, err)
		}
		priv, err := ec2.NewSubnet(ctx, s.name+"-private-"+zone, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			AvailabilityZone: pulumi.String(zone),
			CidrBlock:        pulumi.String(subnet(s.vpc, 3, i).String()),
			Tags:             tags(s.name+"-private-"+zone, "kubernetes.io/role/internal-elb", "1"),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("private subnet %s: %w", zone, err)
		}
		pods, err := ec2.NewSubnet(ctx, s.name+"-pods-"+zone, &ec2.SubnetArgs{
			// Through the association, so the block exists before its subnets.
			VpcId:            podBlock.VpcId,
			AvailabilityZone: pulumi.String(zone),
			CidrBlock:        pulumi.String(subnet(s.pods, 3, i).String()),
			Tags:             tags(s.name + "-pods-" + zone),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("pod subnet %s: %w", zone, err)
		}
		for _, sn := range []struct {
			name   string
			subnet *ec2.Subnet
		}{{"-private-", priv}, {"-pods-", pods}} {
			if _, err := ec2.NewRouteTableAssociation(ctx, s.name+sn.name+zone, &ec2.RouteTableAssociationArgs{
				SubnetId:     sn.subnet.ID(),
				RouteTableId: privateRT.ID(),
			}, opts...); err != nil {
				return nil, fmt.Errorf("route %s%s: %w", sn.name, zone, err)
			}
		}
		net.public = append(net.public, pub)
		net.private = append(net.private, priv)
		net.pods = append(net.pods, pods)
		net.privateIDs = append(net.privateIDs, priv.ID().ToStringOutput())
	}
	return net, nil
}

// newServiceRole creates an IAM role that service may assume, with AWS managed policies.
func newServiceRole(ctx *pulumi.Context, s *spec, name, service string, policies []string, opts []pulumi.ResourceOption) (*iam.Role, []pulumi.Resource, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeRolePolicy(service, "sts:AssumeRole")),
		Tags:             pulumi.ToStringMap(s.cloudTags),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("role %q: %w", name, err)
	}
	var attached []pulumi.Resource
	for _, policy := range policies {
		a, err := iam.NewRolePolicyAttachment(ctx, name+"-"+policy, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String("arn:aws:iam::aws:policy/" + policy),
		}, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("role %q: policy %s: %w", name, policy, err)
		}
		attached = append(attached, a)
	}
	return role, attached, nil
}

// newCustomNetworking points the VPC CNI at the pod subnets, pods taking addresses from
// Network.PodCIDR rather than from the nodes' subnets, and turns on its enforcement of
// NetworkPolicies. One ENIConfig per zone, named after
// the zone, is what ENI_CONFIG_LABEL_DEF selects.
func newCustomNetworking(ctx *pulumi.Context, s *spec, cl *eks.Cluster, net *awsNetwork, opts, kubeOpts []pulumi.ResourceOption) ([]pulumi.Resource, error) {
	cniConfig, err := json.Marshal(map[string]any{
		"env": map[string]string{
			"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
			"ENI_CONFIG_LABEL_DEF":               "topology.kubernetes.io/zone",
		},
		// The add-on's node agent enforces NetworkPolicies (envset's default-deny among
		// them) only when asked; the add-on's configuration schema takes the string "true"
		// (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html).
		"enableNetworkPolicy": "true",
	})
	if err != nil {
		return nil, fmt.Errorf("vpc-cni configuration: %w", err)
	}
	cni, err := eks.NewAddon(ctx, s.name+"-vpc-cni", &eks.AddonArgs{
		ClusterName:              cl.Name,
		AddonName:                pulumi.String("vpc-cni"),
		ConfigurationValues:      pulumi.String(string(cniConfig)),
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     pulumi.ToStringMap(s.cloudTags),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("vpc-cni addon: %w", err)
	}
	deps := []pulumi.Resource{cni}
	for i, zone := range s.zones {
		eni, err := apiextensions.NewCustomResource(ctx, s.name+"-eniconfig-"+zone, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("crd.k8s.amazonaws.com/v1alpha1"),
			Kind:       pulumi.String("ENIConfig"),
			Metadata: &metav1.ObjectMetaArgs{
				Name:   pulumi.String(zone),
				Labels: pulumi.ToStringMap(s.kubeLabels),
			},
			OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
				"subnet":         net.pods[i].ID(),
				"securityGroups": pulumi.StringArray{cl.VpcConfig.ClusterSecurityGroupId().Elem()},
			}},
		}, append(kubeOpts, pulumi.DependsOn([]pulumi.Resource{cni}))...)
		if err != nil {
			return nil, fmt.Errorf("eniconfig %s: %w", zone, err)
		}
		deps = append(deps, eni)
	}
	return deps, nil
}

// newEKSAutoscaler installs cluster-autoscaler with an EKS Pod Identity role, and the
// priority-expander ConfigMap it reads.
func newEKSAutoscaler(ctx *pulumi.Context, c *Cluster, s *spec, cl *eks.Cluster, system *eks.NodeGroup, opts, kubeOpts []pulumi.ResourceOption) error {
	agent, err := eks.NewAddon(ctx, s.name+"-pod-identity", &eks.AddonArgs{
		ClusterName: cl.Name,
		AddonName:   pulumi.String("eks-pod-identity-agent"),
		Tags:        pulumi.ToStringMap(s.cloudTags),
	}, opts...)
	if err != nil {
		return fmt.Errorf("pod identity addon: %w", err)
	}
	role, err := iam.NewRole(ctx, s.name+"-autoscaler", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("pods.eks.amazonaws.com", "sts:AssumeRole", "sts:TagSession")),
		Tags:             pulumi.ToStringMap(s.cloudTags),
	}, opts...)
	if err != nil {
		return fmt.Errorf("autoscaler role: %w", err)
	}
	policy, err := iam.NewRolePolicy(ctx, s.name+"-autoscaler", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: cl.Name.ApplyT(autoscalerPolicy).(pulumi.StringOutput),
	}, opts...)
	if err != nil {
		return fmt.Errorf("autoscaler policy: %w", err)
	}
	assoc, err := eks.NewPodIdentityAssociation(ctx, s.name+"-autoscaler", &eks.PodIdentityAssociationArgs{
		ClusterName:    cl.Name,
		Namespace:      pulumi.String("kube-system"),
		ServiceAccount: pulumi.String(autoscalerAccount),
		RoleArn:        role.Arn,
		Tags:           pulumi.ToStringMap(s.cloudTags),
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{agent}))...)
	if err != nil {
		return fmt.Errorf("autoscaler pod identity: %w", err)
	}
	priorities, err := newPriorityExpander(ctx, c, s)
	if err != nil {
		return err
	}
	_, err = helmv3.NewRelease(ctx, s.name+"-autoscaler", &helmv3.ReleaseArgs{
		Name:           pulumi.String(autoscalerChart),
		Namespace:      pulumi.String("kube-system"),
		Chart:          pulumi.String(autoscalerChart),
		Version:        pulumi.String(autoscalerChartVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(autoscalerChartRepo)},
		Values: pulumi.Map{
			"cloudProvider":    pulumi.String("aws"),
			"awsRegion":        pulumi.String(s.region),
			"fullnameOverride": pulumi.String(autoscalerChart),
			"autoDiscovery":    pulumi.Map{"clusterName": cl.Name},
			"image":            pulumi.Map{"tag": pulumi.String(autoscalerImageTag(s.version))},
			"rbac": pulumi.Map{"serviceAccount": pulumi.Map{
				"create": pulumi.Bool(true),
				"name":   pulumi.String(autoscalerAccount),
			}},
			// The autoscaler runs on the system pool, never on capacity it may remove.
			"nodeSelector": pulumi.Map{LabelPool: pulumi.String(SystemPoolName)},
			"extraArgs": pulumi.Map{
				"expander":                      pulumi.String("priority"),
				"balance-similar-node-groups":   pulumi.Bool(true),
				"max-node-provision-time":       pulumi.String(autoscalerDuration(s.maxNodeProvisionTime)),
				"skip-nodes-with-local-storage": pulumi.Bool(false),
				// Back to spot: a node, a fallback's among them, that stays under
				// autoscalerScaleDownUtilization of its allocatable CPU and memory requested
				// for autoscalerScaleDownUnneeded is removed once its pods fit elsewhere, and
				// those pods go to spot first (defaults: 10m and 0.5).
				"scale-down-unneeded-time":         pulumi.String(autoscalerScaleDownUnneeded),
				"scale-down-utilization-threshold": pulumi.String(autoscalerScaleDownUtilization),
			},
		},
	}, append(kubeOpts, pulumi.DependsOn([]pulumi.Resource{system, policy, assoc, priorities}))...)
	if err != nil {
		return fmt.Errorf("autoscaler release: %w", err)
	}
	return nil
}

// assumeRolePolicy is a trust policy that lets service assume a role.
func assumeRolePolicy(service string, actions ...string) string {
	doc, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]string{"Service": service},
			"Action":    actions,
		}},
	})
	return string(doc)
}

// autoscalerPolicy is cluster-autoscaler's IAM policy: it may read every group but only
// resize and terminate in the groups EKS tagged as owned by this cluster.
func autoscalerPolicy(clusterName string) (string, error) {
	doc, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Effect": "Allow",
				"Action": []string{
					"autoscaling:DescribeAutoScalingGroups",
					"autoscaling:DescribeAutoScalingInstances",
					"autoscaling:DescribeLaunchConfigurations",
					"autoscaling:DescribeScalingActivities",
					"autoscaling:DescribeTags",
					"ec2:DescribeImages",
					"ec2:DescribeInstanceTypes",
					"ec2:DescribeLaunchTemplateVersions",
					"ec2:GetInstanceTypesFromInstanceRequirements",
					"eks:DescribeNodegroup",
				},
				"Resource": "*",
			},
			{
				"Effect":   "Allow",
				"Action":   []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
				"Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]string{
					"aws:ResourceTag/k8s.io/cluster-autoscaler/" + clusterName: "owned",
				}},
			},
		},
	})
	return string(doc), err
}

// systemLabels are the system pool's node labels.
func systemLabels() map[string]string {
	return map[string]string{LabelPool: SystemPoolName, LabelCapacity: string(OnDemand)}
}

// deref reads an optional string from an All result.
func deref(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}
