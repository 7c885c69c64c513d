"""Static files served by the application itself (WhiteNoise), so `zonewarden serve` needs no
separate web server: straight from the installed apps, or from STATIC_ROOT once collectstatic ran."""

from __future__ import annotations

import os

from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def add_files(self, root: str, prefix: str | None = None) -> None:
        # STATIC_ROOT exists only after `zonewarden collectstatic`; without it the apps' own
        # directories serve (WHITENOISE_USE_FINDERS), which is no reason for a warning.
        if os.path.isdir(root):
            super().add_files(root, prefix=prefix)
