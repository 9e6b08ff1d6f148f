"""Generated wire-protocol modules; import ``remote_gym.protocol.v1.remote_gym_pb2`` directly."""
