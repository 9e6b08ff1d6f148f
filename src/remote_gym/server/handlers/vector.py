"""Serve one vector session's requests: decode, run on the session's sub-envs, encode one reply."""

from __future__ import annotations

import logging
import traceback
from typing import Any, ClassVar

from gymnasium.vector.utils import batch_space as create_batch_space
from gymnasium.vector.utils import iterate

from remote_gym.codec.errors import error_to_proto
from remote_gym.codec.spaces import encode_space
from remote_gym.codec.values import decode_value, encode_value
from remote_gym.codec.vector import encode_info_calls, encode_vector_info
from remote_gym.errors import InvalidActionError, InvalidCallError, RemoteEnvError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.async_steps import AsyncStepper, batch_results
from remote_gym.server.handlers.base import Method, RequestHandler, check_public_name
from remote_gym.server.handlers.cores import Infos, LocalVectorCore, ReportedError, SubEnvError, VectorCore
from remote_gym.server.handlers.describe import describe_common, sample_response
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.vector.actions import BatchActionCheck
from remote_gym.vector.splits import set_attr_values, stack_items

logger = logging.getLogger(__name__)


class VectorEnvHandler(RequestHandler):
    """Answer a vector session's requests; never raises out of :meth:`handle`.

    The sub-envs are stepped by Gymnasium's ``SyncVectorEnv`` (results exactly its own), in this
    process or, when ``spec.workers > 1``, split over this process and forked helper processes; or,
    with ``vectorization_mode="vector_entry_point"``, by the env's own vectorised implementation.
    """

    def __init__(self, spec: CreateSpec, core: VectorCore, vectorization_mode: str) -> None:
        super().__init__()
        self.spec = spec
        self.session_id = spec.session_id
        self._compress = spec.compress
        self.core = core
        self.vectorization_mode = vectorization_mode
        self._stepper: AsyncStepper | None = None
        """Asynchronous stepping (capability ``vector_async``), made by the first ``async_step``."""
        self._batch_checks: dict[int, BatchActionCheck] = {}
        """Action checks of the batches of n sub-envs that ``async_step`` requests named, by n."""
        self._step_check = BatchActionCheck(core.action_space)
        """The action check of ``step`` (every sub-env)."""

    @property
    def deferred(self) -> bool:  # type: ignore[override]
        """Whether quick sub-envs wait to be stepped after the last reply (see ``async_steps``)."""
        return self._stepper is not None and self._stepper.deferred

    def run_deferred(self) -> None:
        """Step the quick sub-envs that the last ``async_step`` reply did not need (never raises: a
        sub-env's failure is kept for the request that collects its result)."""
        if self._stepper is not None:
            self._stepper.run_deferred()

    def _quiesce(self, *, discard: bool = False) -> None:
        """Before a synchronous request: let the sub-envs stepping asynchronously finish."""
        if self._stepper is not None:
            self._stepper.drain(discard=discard)

    def describe(self) -> pb.Response:
        """The ``MakeResponse``: single-env spaces, ``num_envs``, metadata with ``autoreset_mode``."""
        core = self.core
        resp = pb.Response()
        make = resp.make
        metadata = describe_common(make, core.first_env, self.spec)
        make.num_envs = core.num_envs
        make.vectorization_mode = self.vectorization_mode
        make.observation_space.CopyFrom(encode_space(core.single_observation_space))
        make.action_space.CopyFrom(encode_space(core.single_action_space))
        metadata["autoreset_mode"] = core.autoreset_mode.name
        encode_value(metadata, make.metadata, path="metadata")
        make.reward_range.none = True
        return resp

    def env_restarts(self) -> int:
        """Sub-envs the core recreated after they raised (restart mode)."""
        return self.core.env_restarts()

    def translate(self, exc: BaseException) -> pb.Error | None:
        """Sub-env failures carry the sub-env's index; a helper process's failure arrives as its Error."""
        if isinstance(exc, SubEnvError):
            return error_to_proto(_remote_env_error(exc))
        if isinstance(exc, ReportedError):
            return exc.error
        return None

    def _reset(self, request: pb.Request) -> pb.Response:
        seed = decode_value(request.reset.seed) if request.reset.HasField("seed") else None
        options = decode_value(request.reset.options) if request.reset.HasField("options") else None
        if not (seed is None or _is_seed(seed) or (isinstance(seed, list) and all(map(_is_seed, seed)))):
            raise InvalidCallError(
                f"seed must be an int, a list of ints/None, or None; got {type(seed).__name__}"
            )
        if options is not None and not isinstance(options, dict):
            raise InvalidCallError(f"options must be a dict or None, got {type(options).__name__}")
        self._quiesce(discard=True)
        obs, infos = self.core.reset(seed, options)
        resp = pb.Response()
        out = resp.reset
        encode_value(obs, out.observation, compress=self._compress, path="observation")
        self._encode_infos(infos, out)
        return resp

    def _encode_infos(self, infos: Infos, out: pb.ResetResponse | pb.StepResponse) -> None:
        if isinstance(infos, list):
            encode_info_calls(infos, out.info_calls, compress=self._compress)
        else:
            encode_vector_info(infos, out.info, compress=self._compress)

    def _step(self, request: pb.Request) -> pb.Response:
        actions = decode_value(request.step.action)
        if not self._step_check(actions):
            raise InvalidActionError(f"actions {actions!r} are not an element of {self.core.action_space}")
        self._quiesce()
        obs, rewards, terminations, truncations, infos = self.core.step(actions)
        resp = pb.Response()
        out = resp.step
        encode_value(obs, out.observation, compress=self._compress, path="observation")
        encode_value(rewards, out.reward, path="rewards")
        encode_value(terminations, out.terminated, path="terminations")
        encode_value(truncations, out.truncated, path="truncations")
        self._encode_infos(infos, out)
        return resp

    def _render(self, request: pb.Request) -> pb.Response:
        self._quiesce()
        resp = pb.Response()
        encode_value(self.core.render(), resp.render.frame, compress=self._compress, path="render()")
        return resp

    def _call(self, request: pb.Request) -> pb.Response:
        call = request.call
        check_public_name(call.name, "calling or reading")
        args = decode_value(call.args) if call.HasField("args") else []
        kwargs = decode_value(call.kwargs) if call.HasField("kwargs") else {}
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise InvalidCallError("call arguments must be a list and a dict")
        self._quiesce()
        results = self.core.call(call.name, args, kwargs, call.get_attr)
        resp = pb.Response()
        encode_value(results, resp.call.result, compress=self._compress, path=call.name)
        return resp

    def _set_attr(self, request: pb.Request) -> pb.Response:
        name = request.set_attr.name
        check_public_name(name, "setting")
        values = decode_value(request.set_attr.values)
        if not isinstance(values, list):  # the client sends one value per sub-env
            raise InvalidCallError(f"set_attr needs a list of {self.core.num_envs} values")
        try:
            values = set_attr_values(values, self.core.num_envs)
        except ValueError as exc:
            raise InvalidCallError(str(exc)) from None
        self._quiesce()
        self.core.set_attr(name, values)
        return pb.Response(set_attr=pb.SetAttrResponse())

    def close_envs(self) -> None:
        """Close every sub-environment (and stop helper processes)."""
        if self._stepper is not None:
            self._stepper.drain()
            self._stepper.close()
        self.core.close()

    def _actions(self, actions: Any, n: int) -> list[Any]:
        """The single actions of a batch of ``n`` (checked against the batched action space once)."""
        check = self._batch_checks.get(n)
        if check is None:
            check = self._batch_checks[n] = BatchActionCheck(
                create_batch_space(self.core.single_action_space, n)
            )
        if not check(actions):
            raise InvalidActionError(f"actions {actions!r} are not a batch of {n} in {check.space}")
        return list(iterate(check.space, actions))

    def _async_step(self, request: pb.Request) -> pb.Response:
        """Start stepping the named sub-envs; answer with every result ready once ``min_ready`` are."""
        core = self.core
        if not isinstance(core, LocalVectorCore):
            raise InvalidCallError(
                "asynchronous stepping needs the sub-envs in one process: workers_per_session=1 and "
                "vectorization_mode='sync'"
            )
        if self._stepper is None:
            self._stepper = AsyncStepper(core.envs, core.num_envs)
        ask = request.async_step
        env_ids = list(ask.env_ids)
        if env_ids:
            self._stepper.submit(env_ids, self._actions(decode_value(ask.actions), len(env_ids)))
        batch = batch_results(self._stepper.collect(ask.min_ready, ask.linger_s, ask.max_wait_s))
        resp = pb.Response()
        out = resp.async_step
        out.env_ids.extend(batch.env_ids)
        obs = stack_items(core.single_observation_space, batch.observations)  # none: max_wait_s ended
        encode_value(obs, out.step.observation, compress=self._compress, path="observation")
        encode_value(batch.rewards, out.step.reward, path="rewards")
        encode_value(batch.terminations, out.step.terminated, path="terminations")
        encode_value(batch.truncations, out.step.truncated, path="truncations")
        # Only non-empty infos are kept (an empty one adds nothing to a vectorised info).
        calls = [(k, info) for k, infos in enumerate(batch.infos) for info in infos]
        encode_info_calls(calls, out.step.info_calls, compress=self._compress)
        return resp

    def _sample(self, request: pb.Request) -> pb.Response:
        core = self.core
        return sample_response(
            request, core.single_observation_space, core.single_action_space, self._compress
        )

    METHODS: ClassVar[dict[str, Method]] = {
        "sample": _sample,
        "reset": _reset,
        "step": _step,
        "render": _render,
        "call": _call,
        "set_attr": _set_attr,
        "async_step": _async_step,
        "close": RequestHandler.close_request,
    }


def _is_seed(seed: Any) -> bool:
    # bool is an int here as it is for SyncVectorEnv (seed=True seeds like seed=1)
    return seed is None or isinstance(seed, int)


def _remote_env_error(exc: SubEnvError) -> RemoteEnvError:
    cause = exc.cause
    cause_type = type(cause)
    return RemoteEnvError(
        f"raised {cause_type.__name__}: {cause}",
        remote_type=f"{cause_type.__module__}.{cause_type.__qualname__}",
        remote_traceback="".join(traceback.format_exception(cause)),
        sub_env_index=exc.index,
    )
