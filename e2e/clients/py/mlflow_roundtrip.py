"""Create an experiment, log params and metrics in a run, read them back.

Usage: python mlflow_roundtrip.py EXPERIMENT_NAME
MLFLOW_TRACKING_URI points at Envoy; mlflow-oidc-client (configured in the
pyproject.toml of the working directory) adds the Authorization header.
Prints {"experiment_id", "run_id", "params", "metrics"} as JSON.
"""
import json
import sys

import mlflow
from mlflow.tracking import MlflowClient


def main() -> None:
    name = sys.argv[1]
    experiment_id = mlflow.create_experiment(name)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({"learning_rate": "0.01", "depth": "6"})
        for step, loss in enumerate([0.9, 0.5, 0.25]):
            mlflow.log_metric("loss", loss, step=step)
    data = MlflowClient().get_run(run.info.run_id).data
    print(json.dumps({"experiment_id": experiment_id, "run_id": run.info.run_id,
                      "params": data.params, "metrics": data.metrics}))


if __name__ == "__main__":
    main()
