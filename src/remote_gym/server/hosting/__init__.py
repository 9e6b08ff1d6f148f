"""How the gRPC process reaches the environments: the zygote, worker processes, or in-process hosting."""
