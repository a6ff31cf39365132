"""Run the mlflow CLI as it behaves without mlflow-oidc-client installed.

Usage: python mlflow_cli_without_oidc.py ARGS...   (as `mlflow ARGS...`)
mlflow-oidc-client registers itself as a request-header provider through an
entry point; this takes it out of mlflow's registry again, so that requests
go out with no Authorization header at all.
"""
import sys

from mlflow.cli import cli
from mlflow.tracking.request_header import registry


def main() -> None:
    providers = registry._request_header_provider_registry._registry
    kept = [p for p in providers if not type(p).__module__.startswith("mlflow_oidc_client")]
    if len(kept) == len(providers):
        sys.exit("mlflow-oidc-client's request-header provider is not registered; nothing to take out")
    providers[:] = kept
    cli(args=sys.argv[1:], prog_name="mlflow")


if __name__ == "__main__":
    main()
