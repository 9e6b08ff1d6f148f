"""gRPC plumbing shared by the server and the client: TLS, auth, options, status mapping."""
