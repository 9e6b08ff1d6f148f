"""What runs where the environment runs (a worker process, or the server for in-process hosting); never grpc."""
