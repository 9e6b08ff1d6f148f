"""remote_gym.v1 generated protobuf and gRPC modules (do not edit; see scripts/gen_protos.py)."""
