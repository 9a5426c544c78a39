"""Dependencies replaced in a copy of a route: what lets a host app put its own users in
place of the service's API keys without copying an endpoint.

``Rebinder({current_principal: host_principal}).call(endpoint)`` is ``endpoint`` itself if
nothing below it depends on a replaced dependency; otherwise a thin wrapper whose signature
is the endpoint's with each such ``Depends`` pointing at the replacement (or at a rebound
copy of the dependency that led there). FastAPI reads that signature as it reads any: the
host's dependencies are solved, and documented in its OpenAPI, like its own.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any, get_args, get_origin

from fastapi import params

__all__ = ["Rebinder"]

Call = Callable[..., Any]


class Rebinder:
    """Replaces dependencies, wherever they are used, in the callables it is given."""

    def __init__(self, replacements: Mapping[Call, Call]) -> None:
        self._replacements = dict(replacements)
        self._rebound: dict[Call, Call] = {}

    def call(self, call: Call) -> Call:
        """``call``, its replacement, or a copy whose dependencies are rebound."""
        if call in self._replacements:
            return self._replacements[call]
        if call in self._rebound:
            return self._rebound[call]
        if not (inspect.isfunction(call) or inspect.ismethod(call)):
            return call  # classes and security schemes: nothing of ours inside
        signature = inspect.signature(call, eval_str=True)
        parameters = [self._parameter(p) for p in signature.parameters.values()]
        changed = any(
            new is not old
            for new, old in zip(parameters, signature.parameters.values(), strict=True)
        )
        rebound = _wrap(call, signature.replace(parameters=parameters)) if changed else call
        self._rebound[call] = rebound
        return rebound

    def depends(self, marker: Any) -> Any:
        """A ``Depends(...)`` (or ``Security``) pointing at the rebound dependency."""
        if not isinstance(marker, params.Depends) or marker.dependency is None:
            return marker
        dependency = self.call(marker.dependency)
        if dependency is marker.dependency:
            return marker
        return dataclasses.replace(marker, dependency=dependency)

    def _parameter(self, parameter: inspect.Parameter) -> inspect.Parameter:
        annotation, default = parameter.annotation, parameter.default
        if get_origin(annotation) is Annotated:
            base, *metadata = get_args(annotation)
            rebound = [self.depends(item) for item in metadata]
            if any(new is not old for new, old in zip(rebound, metadata, strict=True)):
                annotation = Annotated.__class_getitem__((base, *rebound))
        default = self.depends(default)
        if annotation is parameter.annotation and default is parameter.default:
            return parameter
        return parameter.replace(annotation=annotation, default=default)


def _wrap(call: Call, signature: inspect.Signature) -> Call:
    """A function that calls ``call`` and shows FastAPI ``signature``."""
    if inspect.isgeneratorfunction(call) or inspect.isasyncgenfunction(call):
        raise TypeError(f"{call.__qualname__}: dependencies with yield cannot be rebound")
    if inspect.iscoroutinefunction(call):

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await call(*args, **kwargs)

    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return call(*args, **kwargs)

    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    for name in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(wrapper, name, getattr(call, name, None))
    return wrapper
