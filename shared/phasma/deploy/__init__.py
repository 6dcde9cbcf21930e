"""Knative deployment: manifests generated from the function registry, setup Jobs, rollout.

`python -m phasma.deploy manifests` writes `knative/`; `deploy` applies it in the rollout
order of docs/operations.md §4; `image` builds the one container image every function runs.
"""
