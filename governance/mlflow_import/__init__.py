"""MLflow import: registered model versions and their aliases, recorded in the ledger.

`service.mlflow_import` does the work; `tasks` runs it periodically and for webhooks; the
`import_mlflow` management command runs it by hand. Nothing here imports MLflow at module level,
so the service starts without the MLflow client installed.
"""
