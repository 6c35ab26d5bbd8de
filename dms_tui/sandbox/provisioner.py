"""Create (and remove) an environment's AWS objects in moto with boto3, and bind the local databases to them.

The Provision step creates an environment's objects once, by one of two paths: the real terraform bundle applied
against the daemon (``dms_tui.steps.provision``, with the override file from ``dms_tui.provision.workspace``), or,
where terraform cannot run, :func:`provision_with_api` here: boto3 creates the objects later steps read — VPCs and
subnets, NLBs with target groups and listeners, endpoint services, interface endpoints in the DMS VPC, Aurora
cluster records, the two secrets, the DMS access role, replication instance and endpoints, a bastion instance, and
the account-wide DMS roles when absent — and returns the same :class:`EnvironmentOutputs` terraform would.
:func:`deprovision_with_api` removes them again at cleanup. Every name carries the environment, as the bundle's do,
so several environments coexist in one sandbox.

Either way, :func:`bind_databases` then makes the environment's local clusters match the secrets (password set
through the cluster's private admin socket, database created) and starts one forwarder per interface endpoint DNS
name.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs
from dms_tui.sandbox.postgres import LocalPostgres

if TYPE_CHECKING:
    from dms_tui.config import DatabaseConfig, VpcConfig, WizardConfig

ProvisionPath = Literal["terraform", "api"]
Side = Literal["source", "target"]
SIDES: tuple[Side, Side] = ("source", "target")

# Characters RDS refuses in master passwords, and DMS in endpoint passwords.
_PASSWORD_EXCLUDED = "/@\"' \\:;?&=+%#"


#: An image moto ships by default. Listing images instead (describe_images) makes moto load ~1,300 of them:
#: seconds of a cold `up`. On AWS the bundle looks the bastion's image up itself.
SANDBOX_BASTION_AMI = "ami-03cf127a"


@dataclass(frozen=True)
class SideLayout:
    """One side's names and network as the tfvars contract's defaults describe them."""

    cluster_name: str
    vpc_name: str
    cidr: str
    subnets: tuple[str, str] = ("10.0.1.0/24", "10.0.2.0/24")
    database_name: str = "demo_db"
    master_username: str = "postgres"
    port: int = 5432
    engine: str = "postgres"  # the DMS endpoint's engine name


@dataclass(frozen=True)
class SandboxLayout:
    """What the boto3 path creates for one environment: the contract's defaults (three overlapping 10.0.0.0/16 VPCs,
    demo_db), every name prefixed with the environment as the bundle's are, so environments coexist in one moto."""

    env: str = "dev"
    source: SideLayout = SideLayout("dev-onprem-source", "onprem-source", "10.0.0.0/16")
    target: SideLayout = SideLayout("dev-aurora-target", "aurora-target", "10.0.0.0/16", engine="aurora-postgresql")
    dms_vpc_name: str = "dms"
    dms_cidr: str = "10.0.0.0/16"
    dms_subnets: tuple[str, str] = ("10.0.1.0/24", "10.0.2.0/24")
    azs_suffixes: tuple[str, str] = ("a", "b")
    replication_instance_class: str = "dms.t3.medium"
    allocated_storage: int = 50
    tags: Mapping[str, str] = field(default_factory=lambda: {"Project": "dms-tui", "Environment": "dev"})

    @classmethod
    def for_env(cls, env: str) -> SandboxLayout:
        """The defaults for environment ``env`` (names as the bundle gives them: ``<env>-onprem-source``...)."""
        return cls(
            env=env,
            source=SideLayout(f"{env}-onprem-source", "onprem-source", "10.0.0.0/16"),
            target=SideLayout(f"{env}-aurora-target", "aurora-target", "10.0.0.0/16", engine="aurora-postgresql"),
            tags={"Project": "dms-tui", "Environment": env},
        )

    @classmethod
    def from_config(cls, config: WizardConfig) -> SandboxLayout:
        """What the person configured (the tfvars): names, CIDRs, subnets, databases, ports, the DMS instance."""
        env = config.environment

        def side(vpc: VpcConfig, db: DatabaseConfig, engine: str) -> SideLayout:
            subnets = tuple(vpc.private_subnets[:2])
            return SideLayout(
                f"{env}-{db.cluster_name}",
                vpc.name,
                vpc.cidr,
                subnets=(subnets[0], subnets[1]) if len(subnets) == 2 else ("10.0.1.0/24", "10.0.2.0/24"),
                database_name=db.database_name,
                master_username=db.master_username,
                port=db.port,
                engine=engine,
            )

        dms_subnets = tuple(config.vpcs.dms.private_subnets[:2])
        return cls(
            env=env,
            source=side(config.vpcs.source, config.source_db, "postgres"),
            target=side(config.vpcs.target, config.target_db, "aurora-postgresql"),
            dms_vpc_name=config.vpcs.dms.name,
            dms_cidr=config.vpcs.dms.cidr,
            dms_subnets=(dms_subnets[0], dms_subnets[1]) if len(dms_subnets) == 2 else ("10.0.1.0/24", "10.0.2.0/24"),
            replication_instance_class=config.dms_replication_instance_class,
            allocated_storage=config.dms_allocated_storage,
            tags={**dict(config.tags), "Environment": env},
        )

    def side(self, side: Side) -> SideLayout:
        return self.source if side == "source" else self.target

    def name(self, suffix: str) -> str:
        return f"dms-tui-{self.env}-{suffix}"


# -- events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceCreated:
    """One AWS object now exists in the sandbox (``kind`` as terraform would name its type)."""

    kind: str
    identifier: str


@dataclass(frozen=True)
class ForwarderBound:
    """An interface endpoint's DNS name now leads, through a forwarder, to a local cluster."""

    side: Side
    dns_name: str
    listen_port: int
    cluster_port: int


ProvisionEvent = ResourceCreated | ForwarderBound
EventSink = Callable[[ProvisionEvent], None]


def _ignore(_: ProvisionEvent) -> None:
    return None


class ForwarderControl(Protocol):
    """What binding needs from the daemon's control API (see dms_tui.sandbox.lifecycle.DaemonControl)."""

    def ensure_forwarder(self, name: str, dns_name: str, target_host: str, target_port: int) -> Mapping[str, Any]: ...


# -- the no-terraform path ---------------------------------------------------------------------------------------


def _clients(target: Environment, services: tuple[str, ...]) -> list[Any]:
    """Clients sharing one boto3 session: each new session reloads botocore's data, a second per client here."""
    session = target.session()
    client = cast(Callable[..., Any], session.client)
    if target.mode == "sandbox":
        return [client(name, endpoint_url=target.aws_endpoint_url) for name in services]
    return [target.client(name) for name in services]


def _tags(layout: SandboxLayout, name: str) -> list[dict[str, str]]:
    return [{"Key": "Name", "Value": name}, *({"Key": k, "Value": v} for k, v in layout.tags.items())]


class _ApiProvisioner:
    """Creates the objects one call at a time; each call is what the bundle's matching resource would do."""

    def __init__(self, target: Environment, layout: SandboxLayout, emit: EventSink) -> None:
        self.target = target
        self.layout = layout
        self.emit = emit
        self.region = target.region
        self.ec2, self.elbv2, self.rds, self.secrets, self.iam, self.dms = _clients(
            target, ("ec2", "elbv2", "rds", "secretsmanager", "iam", "dms")
        )

    def _azs(self) -> list[str]:
        return [f"{self.region}{suffix}" for suffix in self.layout.azs_suffixes]

    def vpc(self, name: str, cidr: str, subnets: tuple[str, str]) -> tuple[str, list[str], str]:
        vpc_id = self.ec2.create_vpc(
            CidrBlock=cidr, TagSpecifications=[{"ResourceType": "vpc", "Tags": _tags(self.layout, name)}]
        )["Vpc"]["VpcId"]
        self.emit(ResourceCreated("aws_vpc", vpc_id))
        subnet_ids = []
        for az, subnet_cidr in zip(self._azs(), subnets, strict=True):
            subnet_id = self.ec2.create_subnet(VpcId=vpc_id, CidrBlock=subnet_cidr, AvailabilityZone=az)["Subnet"][
                "SubnetId"
            ]
            subnet_ids.append(subnet_id)
            self.emit(ResourceCreated("aws_subnet", subnet_id))
        sg_id = self.ec2.create_security_group(
            GroupName=self.layout.name(f"{name}-sg"), Description=f"{name} traffic", VpcId=vpc_id
        )["GroupId"]
        self.emit(ResourceCreated("aws_security_group", sg_id))
        return vpc_id, subnet_ids, sg_id

    def random_password(self) -> str:
        # The same generator the bundle's ephemeral aws_secretsmanager_random_password uses; never leaves memory.
        return str(
            self.secrets.get_random_password(PasswordLength=32, ExcludeCharacters=_PASSWORD_EXCLUDED)["RandomPassword"]
        )

    def aurora_cluster(self, side: SideLayout, subnet_ids: list[str], sg_id: str, password: str) -> str:
        group = self.layout.name(f"{side.cluster_name}-subnets")
        self.rds.create_db_subnet_group(
            DBSubnetGroupName=group, DBSubnetGroupDescription=f"{side.cluster_name} subnets", SubnetIds=subnet_ids
        )
        cluster = self.rds.create_db_cluster(
            DBClusterIdentifier=side.cluster_name,
            Engine="aurora-postgresql",
            EngineVersion="16.6",
            DatabaseName=side.database_name,
            MasterUsername=side.master_username,
            MasterUserPassword=password,
            Port=side.port,
            DBSubnetGroupName=group,
            VpcSecurityGroupIds=[sg_id],
            StorageEncrypted=True,
        )["DBCluster"]
        self.emit(ResourceCreated("aws_rds_cluster", cluster["DBClusterIdentifier"]))
        return str(cluster["DBClusterIdentifier"])

    def privatelink(self, side: SideLayout, vpc_id: str, subnet_ids: list[str]) -> tuple[str, str, str, str]:
        """NLB -> target group -> listener -> endpoint service: (nlb_arn, tg_arn, service_id, service_name)."""
        nlb_arn = self.elbv2.create_load_balancer(
            Name=f"{side.cluster_name}-nlb"[:32], Type="network", Scheme="internal", Subnets=subnet_ids
        )["LoadBalancers"][0]["LoadBalancerArn"]
        self.emit(ResourceCreated("aws_lb", nlb_arn))
        tg_arn = self.elbv2.create_target_group(
            Name=f"{side.cluster_name}-tg"[:32],
            Protocol="TCP",
            Port=side.port,
            VpcId=vpc_id,
            TargetType="ip",
            HealthCheckProtocol="TCP",
        )["TargetGroups"][0]["TargetGroupArn"]
        self.emit(ResourceCreated("aws_lb_target_group", tg_arn))
        # The writer's address inside its VPC; the real one follows the Aurora writer endpoint.
        writer_ip = side_writer_ip(side)
        self.elbv2.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": writer_ip, "Port": side.port}])
        self.elbv2.create_listener(
            LoadBalancerArn=nlb_arn,
            Protocol="TCP",
            Port=side.port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
        )
        service = self.ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[nlb_arn], AcceptanceRequired=False
        )["ServiceConfiguration"]
        self.emit(ResourceCreated("aws_vpc_endpoint_service", service["ServiceId"]))
        return nlb_arn, tg_arn, str(service["ServiceId"]), str(service["ServiceName"])

    def interface_endpoint(self, service_name: str, vpc_id: str, subnet_ids: list[str], sg_id: str) -> tuple[str, str]:
        endpoint = self.ec2.create_vpc_endpoint(
            VpcEndpointType="Interface",
            VpcId=vpc_id,
            ServiceName=service_name,
            SubnetIds=subnet_ids,
            SecurityGroupIds=[sg_id],
        )["VpcEndpoint"]
        self.emit(ResourceCreated("aws_vpc_endpoint", endpoint["VpcEndpointId"]))
        dns_name = str(endpoint["DnsEntries"][0]["DnsName"]).lower()
        return str(endpoint["VpcEndpointId"]), dns_name

    def secret(self, side_name: Side, side: SideLayout, dns_name: str, password: str) -> str:
        value = {
            "username": side.master_username,
            "password": password,
            "host": dns_name,
            "port": side.port,
            "dbname": side.database_name,
            "engine": "postgres",
        }
        arn = self.secrets.create_secret(
            Name=self.layout.name(f"{side_name}-db-credentials"),
            Description=f"{side.cluster_name} credentials for DMS (host is the interface endpoint DNS name)",
            SecretString=json.dumps(value),
            Tags=[{"Key": k, "Value": v} for k, v in self.layout.tags.items()],
        )["ARN"]
        self.emit(ResourceCreated("aws_secretsmanager_secret", arn))
        return str(arn)

    def dms_access_role(self, secret_arns: list[str]) -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": f"dms.{self.region}.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        name = self.layout.name("dms-secrets-access")
        role_arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arns}],
        }
        self.iam.put_role_policy(RoleName=name, PolicyName="read-db-secrets", PolicyDocument=json.dumps(policy))
        self.emit(ResourceCreated("aws_iam_role", role_arn))
        return str(role_arn)

    def replication_instance(self, subnet_ids: list[str], sg_id: str) -> str:
        group = self.layout.name("dms-subnets")
        self.dms.create_replication_subnet_group(
            ReplicationSubnetGroupIdentifier=group,
            ReplicationSubnetGroupDescription="DMS replication instance subnets",
            SubnetIds=subnet_ids,
        )
        arn = self.dms.create_replication_instance(
            ReplicationInstanceIdentifier=self.layout.name("replication"),
            ReplicationInstanceClass=self.layout.replication_instance_class,
            AllocatedStorage=self.layout.allocated_storage,
            ReplicationSubnetGroupIdentifier=group,
            VpcSecurityGroupIds=[sg_id],
            PubliclyAccessible=False,
        )["ReplicationInstance"]["ReplicationInstanceArn"]
        self.emit(ResourceCreated("aws_dms_replication_instance", arn))
        return str(arn)

    def dms_endpoint(self, side_name: Side, side: SideLayout, secret_arn: str, role_arn: str) -> str:
        arn = self.dms.create_endpoint(
            EndpointIdentifier=self.layout.name(f"{side_name}-endpoint"),
            EndpointType=side_name,
            EngineName=side.engine,
            DatabaseName=side.database_name,
            SslMode="require",  # as the bundle's aws_dms_endpoint (ssl_mode = "require"): the clusters refuse plaintext
            PostgreSQLSettings={
                "SecretsManagerSecretId": secret_arn,
                "SecretsManagerAccessRoleArn": role_arn,
                "DatabaseName": side.database_name,
            },
        )["Endpoint"]["EndpointArn"]
        self.emit(ResourceCreated("aws_dms_endpoint", arn))
        return str(arn)

    def bastion(self, subnet_id: str, sg_id: str) -> str:
        instance_id = self.ec2.run_instances(
            ImageId=SANDBOX_BASTION_AMI,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnet_id,
            SecurityGroupIds=[sg_id],
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(self.layout, self.layout.name("bastion"))}],
        )["Instances"][0]["InstanceId"]
        self.emit(ResourceCreated("aws_instance", instance_id))
        return str(instance_id)


def side_writer_ip(side: SideLayout) -> str:
    """A stand-in private address for the Aurora writer inside the side's first subnet."""
    first = side.subnets[0].split("/")[0].rsplit(".", 1)[0]
    return f"{first}.10"


def provision_with_api(
    target: Environment, layout: SandboxLayout | None = None, on_event: EventSink = _ignore
) -> EnvironmentOutputs:
    """Create every object later steps need with boto3 (the path taken when terraform is unavailable)."""
    from dms_tui.provision.dms_roles import ensure_roles

    layout = layout or SandboxLayout.for_env(target.env)
    api = _ApiProvisioner(target, layout, on_event)
    # The account-wide roles: created when absent, reused when another environment made them (never destroyed).
    for name in ensure_roles(api.iam):
        on_event(ResourceCreated("aws_iam_role", name))
    dms_vpc, dms_subnets, dms_sg = api.vpc(layout.dms_vpc_name, layout.dms_cidr, layout.dms_subnets)
    built: dict[Side, dict[str, Any]] = {}
    for side_name in SIDES:
        side = layout.side(side_name)
        vpc_id, subnets, sg_id = api.vpc(side.vpc_name, side.cidr, side.subnets)
        password = api.random_password()
        cluster_id = api.aurora_cluster(side, subnets, sg_id, password)
        nlb_arn, tg_arn, service_id, service_name = api.privatelink(side, vpc_id, subnets)
        endpoint_id, dns_name = api.interface_endpoint(service_name, dms_vpc, dms_subnets, dms_sg)
        secret_arn = api.secret(side_name, side, dns_name, password)
        del password  # from here on it lives only in Secrets Manager (moto's memory)
        built[side_name] = {
            "vpc_id": vpc_id,
            "vpc_cidr": side.cidr,
            "cluster_identifier": cluster_id,
            "database_name": side.database_name,
            "port": side.port,
            "secret_arn": secret_arn,
            "nlb_arn": nlb_arn,
            "target_group_arn": tg_arn,
            "endpoint_service_id": service_id,
            "vpc_endpoint_id": endpoint_id,
            "endpoint_dns_name": dns_name,
        }
    role_arn = api.dms_access_role([built[s]["secret_arn"] for s in SIDES])
    instance_arn = api.replication_instance(dms_subnets, dms_sg)
    for side_name in SIDES:
        built[side_name]["dms_endpoint_arn"] = api.dms_endpoint(
            side_name, layout.side(side_name), built[side_name]["secret_arn"], role_arn
        )
    bastion_id = api.bastion(dms_subnets[0], dms_sg)
    return EnvironmentOutputs(
        source=SideOutputs(**built["source"]),
        target=SideOutputs(**built["target"]),
        dms_vpc_id=dms_vpc,
        dms_vpc_cidr=layout.dms_cidr,
        dms_replication_instance_arn=instance_arn,
        dms_access_role_arn=role_arn,
        bastion_instance_id=bastion_id,
        region=target.region,
    )


# -- removing what the boto3 path created ----------------------------------------------------------------------------

#: Error codes that mean "already gone": a removal that meets one counts as done.
GONE_CODES = frozenset(
    {
        "ResourceNotFoundFault",
        "ResourceNotFoundException",
        "NoSuchEntity",
        "DBClusterNotFoundFault",
        "DBSubnetGroupNotFoundFault",
        "LoadBalancerNotFound",
        "TargetGroupNotFound",
        "ListenerNotFound",
        "InvalidVpcID.NotFound",
        "InvalidSubnetID.NotFound",
        "InvalidGroup.NotFound",
        "InvalidVpcEndpointId.NotFound",
        "InvalidVpcEndpointServiceId.NotFound",
        "InvalidInstanceID.NotFound",
        "InvalidPermission.NotFound",
    }
)


@dataclass(frozen=True)
class ResourceRemoved:
    """One AWS object of the environment is gone (``already``: it was gone before the call)."""

    kind: str
    identifier: str
    already: bool = False


def deprovision_with_api(
    target: Environment,
    outputs: EnvironmentOutputs,
    layout: SandboxLayout | None = None,
    on_event: Callable[[ResourceRemoved], None] = lambda _: None,
) -> list[str]:
    """Delete everything :func:`provision_with_api` created for ``outputs``, dependants first; what could not be
    deleted (one line each, the error included). Objects already gone count as removed. The account-wide DMS roles
    stay (see dms_tui.provision.dms_roles)."""
    from botocore.exceptions import BotoCoreError, ClientError

    layout = layout or SandboxLayout.for_env(target.env)
    ec2, elbv2, rds, secrets, iam, dms = _clients(target, ("ec2", "elbv2", "rds", "secretsmanager", "iam", "dms"))
    problems: list[str] = []
    sides = (outputs.source, outputs.target)

    def remove(kind: str, identifier: str, call: Callable[..., object], **arguments: Any) -> None:
        try:
            call(**arguments)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in GONE_CODES or "NotFound" in code:
                on_event(ResourceRemoved(kind, identifier, already=True))
                return
            problems.append(f"{kind} {identifier}: {exc}")
            return
        except BotoCoreError as exc:
            problems.append(f"{kind} {identifier}: {exc}")
            return
        on_event(ResourceRemoved(kind, identifier))

    def delete_role(name: str) -> None:
        for policy in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)

    def delete_nlb(nlb: str) -> None:
        for listener in elbv2.describe_listeners(LoadBalancerArn=nlb).get("Listeners", []):
            elbv2.delete_listener(ListenerArn=listener["ListenerArn"])
        elbv2.delete_load_balancer(LoadBalancerArn=nlb)

    for side in sides:
        if side.dms_endpoint_arn:
            remove("aws_dms_endpoint", side.dms_endpoint_arn, dms.delete_endpoint, EndpointArn=side.dms_endpoint_arn)
    instance = outputs.dms_replication_instance_arn
    remove("aws_dms_replication_instance", instance, dms.delete_replication_instance, ReplicationInstanceArn=instance)
    group = layout.name("dms-subnets")
    remove(
        "aws_dms_replication_subnet_group",
        group,
        dms.delete_replication_subnet_group,
        ReplicationSubnetGroupIdentifier=group,
    )
    role = outputs.dms_access_role_arn.rsplit("/", 1)[-1]
    remove("aws_iam_role", role, delete_role, name=role)
    for side in sides:
        remove(
            "aws_secretsmanager_secret",
            side.secret_arn,
            secrets.delete_secret,
            SecretId=side.secret_arn,
            ForceDeleteWithoutRecovery=True,
        )
    if outputs.bastion_instance_id:
        bastion = outputs.bastion_instance_id
        remove("aws_instance", bastion, ec2.terminate_instances, InstanceIds=[bastion])
    for side in sides:
        remove(
            "aws_vpc_endpoint", side.vpc_endpoint_id, ec2.delete_vpc_endpoints, VpcEndpointIds=[side.vpc_endpoint_id]
        )
        remove(
            "aws_vpc_endpoint_service",
            side.endpoint_service_id,
            _delete_endpoint_service,
            ec2=ec2,
            service_id=side.endpoint_service_id,
        )
        remove("aws_lb", side.nlb_arn, delete_nlb, nlb=side.nlb_arn)
        remove(
            "aws_lb_target_group",
            side.target_group_arn,
            elbv2.delete_target_group,
            TargetGroupArn=side.target_group_arn,
        )
        remove(
            "aws_rds_cluster",
            side.cluster_identifier,
            rds.delete_db_cluster,
            DBClusterIdentifier=side.cluster_identifier,
            SkipFinalSnapshot=True,
        )
    for side in sides:
        subnet_group = layout.name(f"{side.cluster_identifier}-subnets")
        remove("aws_db_subnet_group", subnet_group, rds.delete_db_subnet_group, DBSubnetGroupName=subnet_group)
    for vpc_id in (outputs.source.vpc_id, outputs.target.vpc_id, outputs.dms_vpc_id):
        remove("aws_vpc", vpc_id, _delete_vpc, ec2=ec2, vpc_id=vpc_id)
    return problems


def _delete_endpoint_service(ec2: Any, service_id: str) -> None:
    answer = ec2.delete_vpc_endpoint_service_configurations(ServiceIds=[service_id])
    from botocore.exceptions import ClientError

    for failure in answer.get("Unsuccessful", []):
        raise ClientError({"Error": failure.get("Error", {})}, "DeleteVpcEndpointServiceConfigurations")


def _delete_vpc(ec2: Any, vpc_id: str) -> None:
    """The VPC with its subnets and security groups (the default group goes with the VPC)."""
    where = [{"Name": "vpc-id", "Values": [vpc_id]}]
    for group in ec2.describe_security_groups(Filters=where).get("SecurityGroups", []):
        if group.get("GroupName") != "default":
            ec2.delete_security_group(GroupId=group["GroupId"])
    for subnet in ec2.describe_subnets(Filters=where).get("Subnets", []):
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc_id)


# -- the terraform path --------------------------------------------------------------------------------------------


def terraform_override_for(endpoint_url: str, region: str) -> str | None:
    """The provider override HCL for the sandbox, when the workspace module (which owns its text) is present."""
    import importlib.util

    if importlib.util.find_spec("dms_tui.provision.workspace") is None:
        return None
    from dms_tui.provision import workspace

    override = getattr(workspace, "sandbox_override", None)
    return str(override(endpoint_url, region)) if callable(override) else None


def terraform_path_problem() -> str | None:
    """Why the terraform path cannot run on this machine, or None when it can."""
    import importlib.util

    missing = [
        name
        for name in ("dms_tui.provision.workspace", "dms_tui.provision.runner")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        return "terraform not wired yet: this build lacks " + ", ".join(missing)
    from dms_tui.provision.workspace import WorkspaceError, find_terraform, plugin_mirror

    try:
        find_terraform()
    except WorkspaceError as exc:
        return f"terraform is not usable here: {exc}"
    if plugin_mirror() is None and os.environ.get("DMS_TUI_TF_ONLINE") != "1":
        return "no local mirror of the hashicorp/aws provider (set DMS_TUI_TF_PLUGIN_DIR, or DMS_TUI_TF_ONLINE=1)"
    return None


# -- binding the local data plane to what was provisioned ---------------------------------------------------------


def forwarder_name(env: str, side: Side) -> str:
    """The daemon's name for an environment's forwarder (``dev.source-endpoint``): environments share one daemon."""
    return f"{env}.{side}-endpoint"


class SecretShapeError(ValueError):
    """A database secret lacks a field DMS needs."""


SECRET_FIELDS = ("username", "password", "host", "port", "dbname")


def read_secret(target: Environment, secret_arn: str) -> dict[str, Any]:
    """The secret's JSON value, checked for the fields DMS needs (kept in memory by the caller only)."""
    raw = target.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    value = json.loads(raw)
    missing = [name for name in SECRET_FIELDS if not value.get(name)]
    if missing:
        raise SecretShapeError(
            f"secret {secret_arn} lacks {', '.join(missing)}; DMS needs username, password, host, port and dbname. "
            "Re-provision the sandbox (`dms-tui sandbox down` then `up`)."
        )
    return dict(value)


@dataclass(frozen=True)
class Binding:
    """Where each interface endpoint DNS name now leads, and each side's login name (from its secret)."""

    host_map: dict[str, tuple[str, int]]
    usernames: dict[str, str]


def bind_databases(
    target: Environment,
    outputs: EnvironmentOutputs,
    clusters: Mapping[Side, LocalPostgres],
    control: ForwarderControl,
    on_event: EventSink = _ignore,
) -> Binding:
    """Make each cluster accept the secret's credentials, create its database, and start its forwarder.

    Idempotent: run after every ``up`` (a restarted cluster or daemon is re-bound the same way).
    """
    host_map: dict[str, tuple[str, int]] = {}
    usernames: dict[str, str] = {}
    for side_name in SIDES:
        side = outputs.source if side_name == "source" else outputs.target
        cluster = clusters[side_name]
        secret = read_secret(target, side.secret_arn)
        cluster.set_password(str(secret["username"]), str(secret["password"]))
        cluster.create_database(str(secret["dbname"]))
        dns_name = str(secret["host"]).lower().rstrip(".")
        # The certificate names the endpoint DNS name too, as a client asking for verify-full would check it.
        cluster.ensure_tls((dns_name,))
        forwarder = control.ensure_forwarder(forwarder_name(target.env, side_name), dns_name, "127.0.0.1", cluster.port)
        listen = (str(forwarder["listen_host"]), int(forwarder["listen_port"]))
        host_map[dns_name] = listen
        usernames[side_name] = str(secret["username"])
        on_event(ForwarderBound(side_name, dns_name, listen[1], cluster.port))
        _ensure_writer_target(target, side)
    return Binding(host_map, usernames)


def _ensure_writer_target(target: Environment, side: SideOutputs) -> None:
    """Give the side's NLB target group a stand-in writer when it has none.

    The terraform path registers no writer in the sandbox (moto creates no network interfaces for Aurora, so the
    override sets register_writer_targets = false); the boto3 path registers one. Either way the NLB health check
    then has the one target it has on AWS, and the forwarder is what really carries the traffic.
    """
    elbv2 = target.client("elbv2")
    health = elbv2.describe_target_health(TargetGroupArn=side.target_group_arn)
    if health.get("TargetHealthDescriptions"):
        return
    writer_ip = str(ipaddress.ip_network(side.vpc_cidr, strict=False)[10])
    elbv2.register_targets(TargetGroupArn=side.target_group_arn, Targets=[{"Id": writer_ip, "Port": side.port}])
