from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DTYPE_UNSPECIFIED: _ClassVar[DType]
    DTYPE_BOOL: _ClassVar[DType]
    DTYPE_INT8: _ClassVar[DType]
    DTYPE_INT16: _ClassVar[DType]
    DTYPE_INT32: _ClassVar[DType]
    DTYPE_INT64: _ClassVar[DType]
    DTYPE_UINT8: _ClassVar[DType]
    DTYPE_UINT16: _ClassVar[DType]
    DTYPE_UINT32: _ClassVar[DType]
    DTYPE_UINT64: _ClassVar[DType]
    DTYPE_FLOAT16: _ClassVar[DType]
    DTYPE_FLOAT32: _ClassVar[DType]
    DTYPE_FLOAT64: _ClassVar[DType]
    DTYPE_COMPLEX64: _ClassVar[DType]
    DTYPE_COMPLEX128: _ClassVar[DType]

class Compression(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPRESSION_NONE: _ClassVar[Compression]
    COMPRESSION_ZSTD: _ClassVar[Compression]

class AutoresetMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTORESET_MODE_UNSPECIFIED: _ClassVar[AutoresetMode]
    AUTORESET_MODE_NEXT_STEP: _ClassVar[AutoresetMode]
    AUTORESET_MODE_SAME_STEP: _ClassVar[AutoresetMode]
    AUTORESET_MODE_DISABLED: _ClassVar[AutoresetMode]
DTYPE_UNSPECIFIED: DType
DTYPE_BOOL: DType
DTYPE_INT8: DType
DTYPE_INT16: DType
DTYPE_INT32: DType
DTYPE_INT64: DType
DTYPE_UINT8: DType
DTYPE_UINT16: DType
DTYPE_UINT32: DType
DTYPE_UINT64: DType
DTYPE_FLOAT16: DType
DTYPE_FLOAT32: DType
DTYPE_FLOAT64: DType
DTYPE_COMPLEX64: DType
DTYPE_COMPLEX128: DType
COMPRESSION_NONE: Compression
COMPRESSION_ZSTD: Compression
AUTORESET_MODE_UNSPECIFIED: AutoresetMode
AUTORESET_MODE_NEXT_STEP: AutoresetMode
AUTORESET_MODE_SAME_STEP: AutoresetMode
AUTORESET_MODE_DISABLED: AutoresetMode

class Array(_message.Message):
    __slots__ = ("dtype", "shape", "data", "compression")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    dtype: DType
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    compression: Compression
    def __init__(self, dtype: _Optional[_Union[DType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ..., compression: _Optional[_Union[Compression, str]] = ...) -> None: ...

class ValueList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Value]
    def __init__(self, items: _Optional[_Iterable[_Union[Value, _Mapping]]] = ...) -> None: ...

class MapEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: Value
    value: Value
    def __init__(self, key: _Optional[_Union[Value, _Mapping]] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class ValueMap(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[MapEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[MapEntry, _Mapping]]] = ...) -> None: ...

class GraphValue(_message.Message):
    __slots__ = ("nodes", "edges", "edge_links")
    NODES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    EDGE_LINKS_FIELD_NUMBER: _ClassVar[int]
    nodes: Value
    edges: Value
    edge_links: Value
    def __init__(self, nodes: _Optional[_Union[Value, _Mapping]] = ..., edges: _Optional[_Union[Value, _Mapping]] = ..., edge_links: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ("none", "bool_value", "int_value", "big_int_value", "float_value", "string_value", "bytes_value", "array", "numpy_scalar", "list_value", "tuple_value", "dict_value", "graph_value", "complex_value")
    NONE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BIG_INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    ARRAY_FIELD_NUMBER: _ClassVar[int]
    NUMPY_SCALAR_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    TUPLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    DICT_VALUE_FIELD_NUMBER: _ClassVar[int]
    GRAPH_VALUE_FIELD_NUMBER: _ClassVar[int]
    COMPLEX_VALUE_FIELD_NUMBER: _ClassVar[int]
    none: bool
    bool_value: bool
    int_value: int
    big_int_value: str
    float_value: float
    string_value: str
    bytes_value: bytes
    array: Array
    numpy_scalar: Array
    list_value: ValueList
    tuple_value: ValueList
    dict_value: ValueMap
    graph_value: GraphValue
    complex_value: Array
    def __init__(self, none: _Optional[bool] = ..., bool_value: _Optional[bool] = ..., int_value: _Optional[int] = ..., big_int_value: _Optional[str] = ..., float_value: _Optional[float] = ..., string_value: _Optional[str] = ..., bytes_value: _Optional[bytes] = ..., array: _Optional[_Union[Array, _Mapping]] = ..., numpy_scalar: _Optional[_Union[Array, _Mapping]] = ..., list_value: _Optional[_Union[ValueList, _Mapping]] = ..., tuple_value: _Optional[_Union[ValueList, _Mapping]] = ..., dict_value: _Optional[_Union[ValueMap, _Mapping]] = ..., graph_value: _Optional[_Union[GraphValue, _Mapping]] = ..., complex_value: _Optional[_Union[Array, _Mapping]] = ...) -> None: ...

class BoxSpace(_message.Message):
    __slots__ = ("dtype", "shape", "low", "high")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    dtype: DType
    shape: _containers.RepeatedScalarFieldContainer[int]
    low: Array
    high: Array
    def __init__(self, dtype: _Optional[_Union[DType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., low: _Optional[_Union[Array, _Mapping]] = ..., high: _Optional[_Union[Array, _Mapping]] = ...) -> None: ...

class DiscreteSpace(_message.Message):
    __slots__ = ("n", "start", "dtype")
    N_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    n: int
    start: int
    dtype: DType
    def __init__(self, n: _Optional[int] = ..., start: _Optional[int] = ..., dtype: _Optional[_Union[DType, str]] = ...) -> None: ...

class MultiDiscreteSpace(_message.Message):
    __slots__ = ("nvec", "start", "dtype")
    NVEC_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    nvec: Array
    start: Array
    dtype: DType
    def __init__(self, nvec: _Optional[_Union[Array, _Mapping]] = ..., start: _Optional[_Union[Array, _Mapping]] = ..., dtype: _Optional[_Union[DType, str]] = ...) -> None: ...

class MultiBinarySpace(_message.Message):
    __slots__ = ("shape", "n_is_int")
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    N_IS_INT_FIELD_NUMBER: _ClassVar[int]
    shape: _containers.RepeatedScalarFieldContainer[int]
    n_is_int: bool
    def __init__(self, shape: _Optional[_Iterable[int]] = ..., n_is_int: _Optional[bool] = ...) -> None: ...

class TextSpace(_message.Message):
    __slots__ = ("min_length", "max_length", "charset")
    MIN_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    CHARSET_FIELD_NUMBER: _ClassVar[int]
    min_length: int
    max_length: int
    charset: str
    def __init__(self, min_length: _Optional[int] = ..., max_length: _Optional[int] = ..., charset: _Optional[str] = ...) -> None: ...

class TupleSpace(_message.Message):
    __slots__ = ("spaces",)
    SPACES_FIELD_NUMBER: _ClassVar[int]
    spaces: _containers.RepeatedCompositeFieldContainer[Space]
    def __init__(self, spaces: _Optional[_Iterable[_Union[Space, _Mapping]]] = ...) -> None: ...

class DictEntry(_message.Message):
    __slots__ = ("key", "space")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SPACE_FIELD_NUMBER: _ClassVar[int]
    key: str
    space: Space
    def __init__(self, key: _Optional[str] = ..., space: _Optional[_Union[Space, _Mapping]] = ...) -> None: ...

class DictSpace(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[DictEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[DictEntry, _Mapping]]] = ...) -> None: ...

class SequenceSpace(_message.Message):
    __slots__ = ("feature_space", "stack")
    FEATURE_SPACE_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    feature_space: Space
    stack: bool
    def __init__(self, feature_space: _Optional[_Union[Space, _Mapping]] = ..., stack: _Optional[bool] = ...) -> None: ...

class GraphSpace(_message.Message):
    __slots__ = ("node_space", "edge_space")
    NODE_SPACE_FIELD_NUMBER: _ClassVar[int]
    EDGE_SPACE_FIELD_NUMBER: _ClassVar[int]
    node_space: Space
    edge_space: Space
    def __init__(self, node_space: _Optional[_Union[Space, _Mapping]] = ..., edge_space: _Optional[_Union[Space, _Mapping]] = ...) -> None: ...

class OneOfSpace(_message.Message):
    __slots__ = ("spaces",)
    SPACES_FIELD_NUMBER: _ClassVar[int]
    spaces: _containers.RepeatedCompositeFieldContainer[Space]
    def __init__(self, spaces: _Optional[_Iterable[_Union[Space, _Mapping]]] = ...) -> None: ...

class CustomSpace(_message.Message):
    __slots__ = ("codec", "payload", "class_name", "description", "shape", "has_shape", "dtype")
    CODEC_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    HAS_SHAPE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    codec: str
    payload: Value
    class_name: str
    description: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    has_shape: bool
    dtype: DType
    def __init__(self, codec: _Optional[str] = ..., payload: _Optional[_Union[Value, _Mapping]] = ..., class_name: _Optional[str] = ..., description: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., has_shape: _Optional[bool] = ..., dtype: _Optional[_Union[DType, str]] = ...) -> None: ...

class Space(_message.Message):
    __slots__ = ("box", "discrete", "multi_discrete", "multi_binary", "text", "tuple", "dict", "sequence", "graph", "one_of", "custom")
    BOX_FIELD_NUMBER: _ClassVar[int]
    DISCRETE_FIELD_NUMBER: _ClassVar[int]
    MULTI_DISCRETE_FIELD_NUMBER: _ClassVar[int]
    MULTI_BINARY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TUPLE_FIELD_NUMBER: _ClassVar[int]
    DICT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    ONE_OF_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    box: BoxSpace
    discrete: DiscreteSpace
    multi_discrete: MultiDiscreteSpace
    multi_binary: MultiBinarySpace
    text: TextSpace
    tuple: TupleSpace
    dict: DictSpace
    sequence: SequenceSpace
    graph: GraphSpace
    one_of: OneOfSpace
    custom: CustomSpace
    def __init__(self, box: _Optional[_Union[BoxSpace, _Mapping]] = ..., discrete: _Optional[_Union[DiscreteSpace, _Mapping]] = ..., multi_discrete: _Optional[_Union[MultiDiscreteSpace, _Mapping]] = ..., multi_binary: _Optional[_Union[MultiBinarySpace, _Mapping]] = ..., text: _Optional[_Union[TextSpace, _Mapping]] = ..., tuple: _Optional[_Union[TupleSpace, _Mapping]] = ..., dict: _Optional[_Union[DictSpace, _Mapping]] = ..., sequence: _Optional[_Union[SequenceSpace, _Mapping]] = ..., graph: _Optional[_Union[GraphSpace, _Mapping]] = ..., one_of: _Optional[_Union[OneOfSpace, _Mapping]] = ..., custom: _Optional[_Union[CustomSpace, _Mapping]] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "reason", "message", "remote_type", "remote_traceback", "exitcode", "sub_env_index")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REMOTE_TYPE_FIELD_NUMBER: _ClassVar[int]
    REMOTE_TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    EXITCODE_FIELD_NUMBER: _ClassVar[int]
    SUB_ENV_INDEX_FIELD_NUMBER: _ClassVar[int]
    code: int
    reason: str
    message: str
    remote_type: str
    remote_traceback: str
    exitcode: int
    sub_env_index: int
    def __init__(self, code: _Optional[int] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., remote_type: _Optional[str] = ..., remote_traceback: _Optional[str] = ..., exitcode: _Optional[int] = ..., sub_env_index: _Optional[int] = ...) -> None: ...

class AgentSpaces(_message.Message):
    __slots__ = ("agent", "observation_space", "action_space")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_SPACE_FIELD_NUMBER: _ClassVar[int]
    ACTION_SPACE_FIELD_NUMBER: _ClassVar[int]
    agent: Value
    observation_space: Space
    action_space: Space
    def __init__(self, agent: _Optional[_Union[Value, _Mapping]] = ..., observation_space: _Optional[_Union[Space, _Mapping]] = ..., action_space: _Optional[_Union[Space, _Mapping]] = ...) -> None: ...

class MultiAgentDescription(_message.Message):
    __slots__ = ("api", "possible_agents", "spaces", "state_space", "has_state", "max_num_agents", "num_copies")
    API_FIELD_NUMBER: _ClassVar[int]
    POSSIBLE_AGENTS_FIELD_NUMBER: _ClassVar[int]
    SPACES_FIELD_NUMBER: _ClassVar[int]
    STATE_SPACE_FIELD_NUMBER: _ClassVar[int]
    HAS_STATE_FIELD_NUMBER: _ClassVar[int]
    MAX_NUM_AGENTS_FIELD_NUMBER: _ClassVar[int]
    NUM_COPIES_FIELD_NUMBER: _ClassVar[int]
    api: str
    possible_agents: Value
    spaces: _containers.RepeatedCompositeFieldContainer[AgentSpaces]
    state_space: Space
    has_state: bool
    max_num_agents: int
    num_copies: int
    def __init__(self, api: _Optional[str] = ..., possible_agents: _Optional[_Union[Value, _Mapping]] = ..., spaces: _Optional[_Iterable[_Union[AgentSpaces, _Mapping]]] = ..., state_space: _Optional[_Union[Space, _Mapping]] = ..., has_state: _Optional[bool] = ..., max_num_agents: _Optional[int] = ..., num_copies: _Optional[int] = ...) -> None: ...

class MultiAgentState(_message.Message):
    __slots__ = ("agents", "agent_selection", "rewards", "cumulative_rewards", "terminations", "truncations", "infos")
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    AGENT_SELECTION_FIELD_NUMBER: _ClassVar[int]
    REWARDS_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_REWARDS_FIELD_NUMBER: _ClassVar[int]
    TERMINATIONS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATIONS_FIELD_NUMBER: _ClassVar[int]
    INFOS_FIELD_NUMBER: _ClassVar[int]
    agents: Value
    agent_selection: Value
    rewards: Value
    cumulative_rewards: Value
    terminations: Value
    truncations: Value
    infos: Value
    def __init__(self, agents: _Optional[_Union[Value, _Mapping]] = ..., agent_selection: _Optional[_Union[Value, _Mapping]] = ..., rewards: _Optional[_Union[Value, _Mapping]] = ..., cumulative_rewards: _Optional[_Union[Value, _Mapping]] = ..., terminations: _Optional[_Union[Value, _Mapping]] = ..., truncations: _Optional[_Union[Value, _Mapping]] = ..., infos: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class MakeRequest(_message.Message):
    __slots__ = ("protocol_version", "env_name", "kwargs_json", "render_mode", "num_envs", "autoreset_mode", "accept_compression", "restart_on_failure", "resume_session_id", "resume_token", "vectorization_mode", "per_env_infos", "min_protocol_version", "max_protocol_version", "capabilities", "client_version", "multi_agent", "hub_host")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ENV_NAME_FIELD_NUMBER: _ClassVar[int]
    KWARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    RENDER_MODE_FIELD_NUMBER: _ClassVar[int]
    NUM_ENVS_FIELD_NUMBER: _ClassVar[int]
    AUTORESET_MODE_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    RESTART_ON_FAILURE_FIELD_NUMBER: _ClassVar[int]
    RESUME_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VECTORIZATION_MODE_FIELD_NUMBER: _ClassVar[int]
    PER_ENV_INFOS_FIELD_NUMBER: _ClassVar[int]
    MIN_PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    CLIENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    MULTI_AGENT_FIELD_NUMBER: _ClassVar[int]
    HUB_HOST_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    env_name: str
    kwargs_json: str
    render_mode: str
    num_envs: int
    autoreset_mode: AutoresetMode
    accept_compression: _containers.RepeatedScalarFieldContainer[Compression]
    restart_on_failure: bool
    resume_session_id: str
    resume_token: str
    vectorization_mode: str
    per_env_infos: bool
    min_protocol_version: int
    max_protocol_version: int
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    client_version: str
    multi_agent: str
    hub_host: str
    def __init__(self, protocol_version: _Optional[int] = ..., env_name: _Optional[str] = ..., kwargs_json: _Optional[str] = ..., render_mode: _Optional[str] = ..., num_envs: _Optional[int] = ..., autoreset_mode: _Optional[_Union[AutoresetMode, str]] = ..., accept_compression: _Optional[_Iterable[_Union[Compression, str]]] = ..., restart_on_failure: _Optional[bool] = ..., resume_session_id: _Optional[str] = ..., resume_token: _Optional[str] = ..., vectorization_mode: _Optional[str] = ..., per_env_infos: _Optional[bool] = ..., min_protocol_version: _Optional[int] = ..., max_protocol_version: _Optional[int] = ..., capabilities: _Optional[_Iterable[str]] = ..., client_version: _Optional[str] = ..., multi_agent: _Optional[str] = ..., hub_host: _Optional[str] = ...) -> None: ...

class MakeResponse(_message.Message):
    __slots__ = ("protocol_version", "server_version", "session_id", "observation_space", "action_space", "metadata", "spec", "reward_range", "render_mode", "env_name", "env_class", "num_envs", "resume_token", "resumed", "resume_window_s", "vectorization_mode", "lane_path", "lane_secret", "min_protocol_version", "max_protocol_version", "capabilities", "multi_agent")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_SPACE_FIELD_NUMBER: _ClassVar[int]
    ACTION_SPACE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    REWARD_RANGE_FIELD_NUMBER: _ClassVar[int]
    RENDER_MODE_FIELD_NUMBER: _ClassVar[int]
    ENV_NAME_FIELD_NUMBER: _ClassVar[int]
    ENV_CLASS_FIELD_NUMBER: _ClassVar[int]
    NUM_ENVS_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    RESUME_WINDOW_S_FIELD_NUMBER: _ClassVar[int]
    VECTORIZATION_MODE_FIELD_NUMBER: _ClassVar[int]
    LANE_PATH_FIELD_NUMBER: _ClassVar[int]
    LANE_SECRET_FIELD_NUMBER: _ClassVar[int]
    MIN_PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    MULTI_AGENT_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    server_version: str
    session_id: str
    observation_space: Space
    action_space: Space
    metadata: Value
    spec: Value
    reward_range: Value
    render_mode: str
    env_name: str
    env_class: str
    num_envs: int
    resume_token: str
    resumed: bool
    resume_window_s: float
    vectorization_mode: str
    lane_path: str
    lane_secret: bytes
    min_protocol_version: int
    max_protocol_version: int
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    multi_agent: MultiAgentDescription
    def __init__(self, protocol_version: _Optional[int] = ..., server_version: _Optional[str] = ..., session_id: _Optional[str] = ..., observation_space: _Optional[_Union[Space, _Mapping]] = ..., action_space: _Optional[_Union[Space, _Mapping]] = ..., metadata: _Optional[_Union[Value, _Mapping]] = ..., spec: _Optional[_Union[Value, _Mapping]] = ..., reward_range: _Optional[_Union[Value, _Mapping]] = ..., render_mode: _Optional[str] = ..., env_name: _Optional[str] = ..., env_class: _Optional[str] = ..., num_envs: _Optional[int] = ..., resume_token: _Optional[str] = ..., resumed: _Optional[bool] = ..., resume_window_s: _Optional[float] = ..., vectorization_mode: _Optional[str] = ..., lane_path: _Optional[str] = ..., lane_secret: _Optional[bytes] = ..., min_protocol_version: _Optional[int] = ..., max_protocol_version: _Optional[int] = ..., capabilities: _Optional[_Iterable[str]] = ..., multi_agent: _Optional[_Union[MultiAgentDescription, _Mapping]] = ...) -> None: ...

class ResetRequest(_message.Message):
    __slots__ = ("seed", "options")
    SEED_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    seed: Value
    options: Value
    def __init__(self, seed: _Optional[_Union[Value, _Mapping]] = ..., options: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class ResetResponse(_message.Message):
    __slots__ = ("observation", "info", "info_calls", "agents_state")
    OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    INFO_CALLS_FIELD_NUMBER: _ClassVar[int]
    AGENTS_STATE_FIELD_NUMBER: _ClassVar[int]
    observation: Value
    info: Value
    info_calls: Value
    agents_state: MultiAgentState
    def __init__(self, observation: _Optional[_Union[Value, _Mapping]] = ..., info: _Optional[_Union[Value, _Mapping]] = ..., info_calls: _Optional[_Union[Value, _Mapping]] = ..., agents_state: _Optional[_Union[MultiAgentState, _Mapping]] = ...) -> None: ...

class StepRequest(_message.Message):
    __slots__ = ("action",)
    ACTION_FIELD_NUMBER: _ClassVar[int]
    action: Value
    def __init__(self, action: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class StepResponse(_message.Message):
    __slots__ = ("observation", "reward", "terminated", "truncated", "info", "info_calls", "agents_state")
    OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    REWARD_FIELD_NUMBER: _ClassVar[int]
    TERMINATED_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    INFO_CALLS_FIELD_NUMBER: _ClassVar[int]
    AGENTS_STATE_FIELD_NUMBER: _ClassVar[int]
    observation: Value
    reward: Value
    terminated: Value
    truncated: Value
    info: Value
    info_calls: Value
    agents_state: MultiAgentState
    def __init__(self, observation: _Optional[_Union[Value, _Mapping]] = ..., reward: _Optional[_Union[Value, _Mapping]] = ..., terminated: _Optional[_Union[Value, _Mapping]] = ..., truncated: _Optional[_Union[Value, _Mapping]] = ..., info: _Optional[_Union[Value, _Mapping]] = ..., info_calls: _Optional[_Union[Value, _Mapping]] = ..., agents_state: _Optional[_Union[MultiAgentState, _Mapping]] = ...) -> None: ...

class RenderRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RenderResponse(_message.Message):
    __slots__ = ("frame",)
    FRAME_FIELD_NUMBER: _ClassVar[int]
    frame: Value
    def __init__(self, frame: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class CallRequest(_message.Message):
    __slots__ = ("name", "args", "kwargs", "get_attr")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    KWARGS_FIELD_NUMBER: _ClassVar[int]
    GET_ATTR_FIELD_NUMBER: _ClassVar[int]
    name: str
    args: Value
    kwargs: Value
    get_attr: bool
    def __init__(self, name: _Optional[str] = ..., args: _Optional[_Union[Value, _Mapping]] = ..., kwargs: _Optional[_Union[Value, _Mapping]] = ..., get_attr: _Optional[bool] = ...) -> None: ...

class CallResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: Value
    def __init__(self, result: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class SetAttrRequest(_message.Message):
    __slots__ = ("name", "values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: Value
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class SetAttrResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SampleRequest(_message.Message):
    __slots__ = ("space", "path")
    SPACE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    space: str
    path: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, space: _Optional[str] = ..., path: _Optional[_Iterable[str]] = ...) -> None: ...

class SampleResponse(_message.Message):
    __slots__ = ("sample",)
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    sample: Value
    def __init__(self, sample: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class CloseRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CloseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VectorAsyncStepRequest(_message.Message):
    __slots__ = ("env_ids", "actions", "min_ready", "linger_s", "max_wait_s")
    ENV_IDS_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    MIN_READY_FIELD_NUMBER: _ClassVar[int]
    LINGER_S_FIELD_NUMBER: _ClassVar[int]
    MAX_WAIT_S_FIELD_NUMBER: _ClassVar[int]
    env_ids: _containers.RepeatedScalarFieldContainer[int]
    actions: Value
    min_ready: int
    linger_s: float
    max_wait_s: float
    def __init__(self, env_ids: _Optional[_Iterable[int]] = ..., actions: _Optional[_Union[Value, _Mapping]] = ..., min_ready: _Optional[int] = ..., linger_s: _Optional[float] = ..., max_wait_s: _Optional[float] = ...) -> None: ...

class VectorAsyncStepResponse(_message.Message):
    __slots__ = ("env_ids", "step")
    ENV_IDS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    env_ids: _containers.RepeatedScalarFieldContainer[int]
    step: StepResponse
    def __init__(self, env_ids: _Optional[_Iterable[int]] = ..., step: _Optional[_Union[StepResponse, _Mapping]] = ...) -> None: ...

class Request(_message.Message):
    __slots__ = ("seq", "make", "reset", "step", "render", "call", "set_attr", "close", "sample", "async_step")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    MAKE_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    RENDER_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    SET_ATTR_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    ASYNC_STEP_FIELD_NUMBER: _ClassVar[int]
    seq: int
    make: MakeRequest
    reset: ResetRequest
    step: StepRequest
    render: RenderRequest
    call: CallRequest
    set_attr: SetAttrRequest
    close: CloseRequest
    sample: SampleRequest
    async_step: VectorAsyncStepRequest
    def __init__(self, seq: _Optional[int] = ..., make: _Optional[_Union[MakeRequest, _Mapping]] = ..., reset: _Optional[_Union[ResetRequest, _Mapping]] = ..., step: _Optional[_Union[StepRequest, _Mapping]] = ..., render: _Optional[_Union[RenderRequest, _Mapping]] = ..., call: _Optional[_Union[CallRequest, _Mapping]] = ..., set_attr: _Optional[_Union[SetAttrRequest, _Mapping]] = ..., close: _Optional[_Union[CloseRequest, _Mapping]] = ..., sample: _Optional[_Union[SampleRequest, _Mapping]] = ..., async_step: _Optional[_Union[VectorAsyncStepRequest, _Mapping]] = ...) -> None: ...

class Response(_message.Message):
    __slots__ = ("make", "reset", "step", "render", "call", "set_attr", "close", "sample", "error", "async_step", "hub_end")
    MAKE_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    RENDER_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    SET_ATTR_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ASYNC_STEP_FIELD_NUMBER: _ClassVar[int]
    HUB_END_FIELD_NUMBER: _ClassVar[int]
    make: MakeResponse
    reset: ResetResponse
    step: StepResponse
    render: RenderResponse
    call: CallResponse
    set_attr: SetAttrResponse
    close: CloseResponse
    sample: SampleResponse
    error: Error
    async_step: VectorAsyncStepResponse
    hub_end: HubEnd
    def __init__(self, make: _Optional[_Union[MakeResponse, _Mapping]] = ..., reset: _Optional[_Union[ResetResponse, _Mapping]] = ..., step: _Optional[_Union[StepResponse, _Mapping]] = ..., render: _Optional[_Union[RenderResponse, _Mapping]] = ..., call: _Optional[_Union[CallResponse, _Mapping]] = ..., set_attr: _Optional[_Union[SetAttrResponse, _Mapping]] = ..., close: _Optional[_Union[CloseResponse, _Mapping]] = ..., sample: _Optional[_Union[SampleResponse, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., async_step: _Optional[_Union[VectorAsyncStepResponse, _Mapping]] = ..., hub_end: _Optional[_Union[HubEnd, _Mapping]] = ...) -> None: ...

class ServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HostedEnv(_message.Message):
    __slots__ = ("name", "allowed_kwargs", "is_default", "repo", "commit", "kind")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_KWARGS_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    REPO_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    allowed_kwargs: _containers.RepeatedScalarFieldContainer[str]
    is_default: bool
    repo: str
    commit: str
    kind: str
    def __init__(self, name: _Optional[str] = ..., allowed_kwargs: _Optional[_Iterable[str]] = ..., is_default: _Optional[bool] = ..., repo: _Optional[str] = ..., commit: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class ServerInfo(_message.Message):
    __slots__ = ("server_version", "protocol_version", "environments", "active_sessions", "max_sessions", "hosting", "same_host_lane", "min_protocol_version", "max_protocol_version", "capabilities", "draining", "detached_sessions", "hub_hosts")
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    HOSTING_FIELD_NUMBER: _ClassVar[int]
    SAME_HOST_LANE_FIELD_NUMBER: _ClassVar[int]
    MIN_PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    DETACHED_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    HUB_HOSTS_FIELD_NUMBER: _ClassVar[int]
    server_version: str
    protocol_version: int
    environments: _containers.RepeatedCompositeFieldContainer[HostedEnv]
    active_sessions: int
    max_sessions: int
    hosting: str
    same_host_lane: bool
    min_protocol_version: int
    max_protocol_version: int
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    draining: bool
    detached_sessions: int
    hub_hosts: _containers.RepeatedCompositeFieldContainer[HubHost]
    def __init__(self, server_version: _Optional[str] = ..., protocol_version: _Optional[int] = ..., environments: _Optional[_Iterable[_Union[HostedEnv, _Mapping]]] = ..., active_sessions: _Optional[int] = ..., max_sessions: _Optional[int] = ..., hosting: _Optional[str] = ..., same_host_lane: _Optional[bool] = ..., min_protocol_version: _Optional[int] = ..., max_protocol_version: _Optional[int] = ..., capabilities: _Optional[_Iterable[str]] = ..., draining: _Optional[bool] = ..., detached_sessions: _Optional[int] = ..., hub_hosts: _Optional[_Iterable[_Union[HubHost, _Mapping]]] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SessionStats(_message.Message):
    __slots__ = ("session_id", "env", "peer", "state", "age_s", "steps", "resets", "requests", "latency_p50_s", "latency_p99_s", "received_bytes", "sent_bytes", "worker_pid", "worker_resident_bytes", "busy", "num_envs", "render_mode", "env_restarts", "path", "host")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AGE_S_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    RESETS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_S_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_S_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_BYTES_FIELD_NUMBER: _ClassVar[int]
    SENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    WORKER_PID_FIELD_NUMBER: _ClassVar[int]
    WORKER_RESIDENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    BUSY_FIELD_NUMBER: _ClassVar[int]
    NUM_ENVS_FIELD_NUMBER: _ClassVar[int]
    RENDER_MODE_FIELD_NUMBER: _ClassVar[int]
    ENV_RESTARTS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    env: str
    peer: str
    state: str
    age_s: float
    steps: int
    resets: int
    requests: int
    latency_p50_s: float
    latency_p99_s: float
    received_bytes: int
    sent_bytes: int
    worker_pid: int
    worker_resident_bytes: int
    busy: bool
    num_envs: int
    render_mode: str
    env_restarts: int
    path: str
    host: str
    def __init__(self, session_id: _Optional[str] = ..., env: _Optional[str] = ..., peer: _Optional[str] = ..., state: _Optional[str] = ..., age_s: _Optional[float] = ..., steps: _Optional[int] = ..., resets: _Optional[int] = ..., requests: _Optional[int] = ..., latency_p50_s: _Optional[float] = ..., latency_p99_s: _Optional[float] = ..., received_bytes: _Optional[int] = ..., sent_bytes: _Optional[int] = ..., worker_pid: _Optional[int] = ..., worker_resident_bytes: _Optional[int] = ..., busy: _Optional[bool] = ..., num_envs: _Optional[int] = ..., render_mode: _Optional[str] = ..., env_restarts: _Optional[int] = ..., path: _Optional[str] = ..., host: _Optional[str] = ...) -> None: ...

class ServerTotals(_message.Message):
    __slots__ = ("sessions_opened", "sessions_closed", "steps", "env_steps", "resets", "requests", "worker_crashes", "session_resumes", "refusals", "received_bytes", "sent_bytes", "workers_resident_bytes", "env_restarts")
    SESSIONS_OPENED_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_CLOSED_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    ENV_STEPS_FIELD_NUMBER: _ClassVar[int]
    RESETS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    WORKER_CRASHES_FIELD_NUMBER: _ClassVar[int]
    SESSION_RESUMES_FIELD_NUMBER: _ClassVar[int]
    REFUSALS_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_BYTES_FIELD_NUMBER: _ClassVar[int]
    SENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    WORKERS_RESIDENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    ENV_RESTARTS_FIELD_NUMBER: _ClassVar[int]
    sessions_opened: int
    sessions_closed: int
    steps: int
    env_steps: int
    resets: int
    requests: int
    worker_crashes: int
    session_resumes: int
    refusals: int
    received_bytes: int
    sent_bytes: int
    workers_resident_bytes: int
    env_restarts: int
    def __init__(self, sessions_opened: _Optional[int] = ..., sessions_closed: _Optional[int] = ..., steps: _Optional[int] = ..., env_steps: _Optional[int] = ..., resets: _Optional[int] = ..., requests: _Optional[int] = ..., worker_crashes: _Optional[int] = ..., session_resumes: _Optional[int] = ..., refusals: _Optional[int] = ..., received_bytes: _Optional[int] = ..., sent_bytes: _Optional[int] = ..., workers_resident_bytes: _Optional[int] = ..., env_restarts: _Optional[int] = ...) -> None: ...

class ServerStats(_message.Message):
    __slots__ = ("server_version", "monitoring", "uptime_s", "sessions", "metrics_text", "totals", "hub_hosts")
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    MONITORING_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    METRICS_TEXT_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    HUB_HOSTS_FIELD_NUMBER: _ClassVar[int]
    server_version: str
    monitoring: bool
    uptime_s: float
    sessions: _containers.RepeatedCompositeFieldContainer[SessionStats]
    metrics_text: str
    totals: ServerTotals
    hub_hosts: _containers.RepeatedCompositeFieldContainer[HubHostStats]
    def __init__(self, server_version: _Optional[str] = ..., monitoring: _Optional[bool] = ..., uptime_s: _Optional[float] = ..., sessions: _Optional[_Iterable[_Union[SessionStats, _Mapping]]] = ..., metrics_text: _Optional[str] = ..., totals: _Optional[_Union[ServerTotals, _Mapping]] = ..., hub_hosts: _Optional[_Iterable[_Union[HubHostStats, _Mapping]]] = ...) -> None: ...

class HubEnd(_message.Message):
    __slots__ = ("code", "reason", "message", "session_over")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SESSION_OVER_FIELD_NUMBER: _ClassVar[int]
    code: int
    reason: str
    message: str
    session_over: bool
    def __init__(self, code: _Optional[int] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., session_over: _Optional[bool] = ...) -> None: ...

class HubAttach(_message.Message):
    __slots__ = ("name", "environments", "capacity", "secret", "server_version", "protocol_version", "hosting", "capabilities")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENTS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    HOSTING_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    environments: _containers.RepeatedCompositeFieldContainer[HostedEnv]
    capacity: int
    secret: bytes
    server_version: str
    protocol_version: int
    hosting: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., environments: _Optional[_Iterable[_Union[HostedEnv, _Mapping]]] = ..., capacity: _Optional[int] = ..., secret: _Optional[bytes] = ..., server_version: _Optional[str] = ..., protocol_version: _Optional[int] = ..., hosting: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ...) -> None: ...

class HubHostMessage(_message.Message):
    __slots__ = ("attach", "stats")
    ATTACH_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    attach: HubAttach
    stats: HubStatsReply
    def __init__(self, attach: _Optional[_Union[HubAttach, _Mapping]] = ..., stats: _Optional[_Union[HubStatsReply, _Mapping]] = ...) -> None: ...

class HubAttached(_message.Message):
    __slots__ = ("secret", "hub_version", "frames_port", "worker_lanes")
    SECRET_FIELD_NUMBER: _ClassVar[int]
    HUB_VERSION_FIELD_NUMBER: _ClassVar[int]
    FRAMES_PORT_FIELD_NUMBER: _ClassVar[int]
    WORKER_LANES_FIELD_NUMBER: _ClassVar[int]
    secret: bytes
    hub_version: str
    frames_port: int
    worker_lanes: bool
    def __init__(self, secret: _Optional[bytes] = ..., hub_version: _Optional[str] = ..., frames_port: _Optional[int] = ..., worker_lanes: _Optional[bool] = ...) -> None: ...

class HubOpen(_message.Message):
    __slots__ = ("carry_id", "peer")
    CARRY_ID_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    carry_id: str
    peer: str
    def __init__(self, carry_id: _Optional[str] = ..., peer: _Optional[str] = ...) -> None: ...

class HubControl(_message.Message):
    __slots__ = ("attached", "open", "stats", "error")
    ATTACHED_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    attached: HubAttached
    open: HubOpen
    stats: HubStatsAsk
    error: Error
    def __init__(self, attached: _Optional[_Union[HubAttached, _Mapping]] = ..., open: _Optional[_Union[HubOpen, _Mapping]] = ..., stats: _Optional[_Union[HubStatsAsk, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class HubHost(_message.Message):
    __slots__ = ("name", "environments", "capacity", "active_sessions", "state", "state_age_s", "attaches", "peer", "server_version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENTS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_AGE_S_FIELD_NUMBER: _ClassVar[int]
    ATTACHES_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    environments: _containers.RepeatedCompositeFieldContainer[HostedEnv]
    capacity: int
    active_sessions: int
    state: str
    state_age_s: float
    attaches: int
    peer: str
    server_version: str
    def __init__(self, name: _Optional[str] = ..., environments: _Optional[_Iterable[_Union[HostedEnv, _Mapping]]] = ..., capacity: _Optional[int] = ..., active_sessions: _Optional[int] = ..., state: _Optional[str] = ..., state_age_s: _Optional[float] = ..., attaches: _Optional[int] = ..., peer: _Optional[str] = ..., server_version: _Optional[str] = ...) -> None: ...

class HubStatsAsk(_message.Message):
    __slots__ = ("ask_id",)
    ASK_ID_FIELD_NUMBER: _ClassVar[int]
    ask_id: int
    def __init__(self, ask_id: _Optional[int] = ...) -> None: ...

class HubStatsReply(_message.Message):
    __slots__ = ("ask_id", "stats")
    ASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    ask_id: int
    stats: ServerStats
    def __init__(self, ask_id: _Optional[int] = ..., stats: _Optional[_Union[ServerStats, _Mapping]] = ...) -> None: ...

class HubHostStats(_message.Message):
    __slots__ = ("name", "state", "missing", "stats")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: str
    missing: str
    stats: ServerStats
    def __init__(self, name: _Optional[str] = ..., state: _Optional[str] = ..., missing: _Optional[str] = ..., stats: _Optional[_Union[ServerStats, _Mapping]] = ...) -> None: ...
