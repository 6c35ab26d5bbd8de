"""Every AWS object in a (moto) account that belongs to one environment: what cleanup must leave none of.

An object belongs to environment ``env`` when the bundle's or the boto3 path's naming says so (``<env>-...`` as the
bundle names things, ``dms-tui-<env>-...`` as the boto3 path does) or when it is tagged ``Environment=<env>``.
"""

from __future__ import annotations

from typing import Any


def _ours(name: str, env: str) -> bool:
    return name.startswith(f"{env}-") or name.startswith(f"dms-tui-{env}-")


def environment_objects(target: Any, env: str) -> list[str]:
    """``target``: an Environment (its clients point at the account). One line per object found."""
    found: list[str] = []
    ec2, rds, dms = target.client("ec2"), target.client("rds"), target.client("dms")
    tagged = [{"Name": "tag:Environment", "Values": [env]}]
    found += [f"vpc {v['VpcId']}" for v in ec2.describe_vpcs(Filters=tagged)["Vpcs"]]
    found += [f"subnet {s['SubnetId']}" for s in ec2.describe_subnets(Filters=tagged)["Subnets"]]
    found += [
        f"rds {c['DBClusterIdentifier']}"
        for c in rds.describe_db_clusters()["DBClusters"]
        if _ours(c["DBClusterIdentifier"], env)
    ]
    found += [
        f"secret {s['Name']}"
        for s in target.client("secretsmanager").list_secrets()["SecretList"]
        if _ours(s["Name"], env)
    ]
    found += [
        f"dms instance {i['ReplicationInstanceIdentifier']}"
        for i in dms.describe_replication_instances()["ReplicationInstances"]
        if _ours(i["ReplicationInstanceIdentifier"], env)
    ]
    found += [
        f"dms endpoint {e['EndpointIdentifier']}"
        for e in dms.describe_endpoints()["Endpoints"]
        if _ours(e["EndpointIdentifier"], env)
    ]
    found += [
        f"dms task {t['ReplicationTaskIdentifier']}"
        for t in dms.describe_replication_tasks()["ReplicationTasks"]
        if _ours(t["ReplicationTaskIdentifier"], env)
    ]
    found += [
        f"iam role {r['RoleName']}" for r in target.client("iam").list_roles()["Roles"] if _ours(r["RoleName"], env)
    ]
    elbv2 = target.client("elbv2")
    found += [
        f"lb {lb['LoadBalancerName']}"
        for lb in elbv2.describe_load_balancers()["LoadBalancers"]
        if _ours(lb["LoadBalancerName"], env)
    ]
    found += [
        f"target group {tg['TargetGroupName']}"
        for tg in elbv2.describe_target_groups()["TargetGroups"]
        if _ours(tg["TargetGroupName"], env)
    ]
    running = [*tagged, {"Name": "instance-state-name", "Values": ["pending", "running"]}]
    found += [
        f"instance {i['InstanceId']}"
        for r in ec2.describe_instances(Filters=running)["Reservations"]
        for i in r["Instances"]
    ]
    return found
