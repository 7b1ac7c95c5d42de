# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's clock as this machine learnt it when a token was issued (internal to the collection).

A token's ``exp`` is a time on the issuing site's clock. A machine whose clock
is off from the site's would misjudge how long a kept token lasts: one that is
slow keeps a token the site already refuses, one that is fast replaces a good
token on every run. So when a token is issued, the difference between the site's
clock and this machine's is learnt from the answer and kept beside the token
(in the ``.site`` record at ``dest`` and in the lookup's cache entry), and the
kept token is later judged by the site's clock.
"""

from __future__ import annotations

import time

# Within what one-second time stamps and the request's own duration can tell apart, the clocks agree.
RESOLUTION = 2
# A difference larger than this is worth a warning: the site allows JWT logins 60 s of leeway.
WARN_ABOVE = 60
# Beyond a year no certificate would verify; a record saying more is damaged and is not believed.
MAX_OFFSET = 366 * 24 * 3600


def learnt_offset(date_header, received_at):
    """Seconds the site's clock is ahead of this machine's (negative: behind), learnt from the answer that brought a token.

    ``date_header`` is the answer's ``Date``: the site's clock when it sent the
    token, which it issued (``iat``) a moment before. ``received_at`` is this
    machine's time when the answer arrived. An answer without a readable
    ``Date`` teaches nothing (0), and so do differences within what one-second
    time stamps can tell apart.
    """
    site_time = _http_date(date_header)
    if site_time is None:
        return 0
    offset = int(round(site_time - received_at))
    return 0 if abs(offset) <= RESOLUTION or abs(offset) > MAX_OFFSET else offset


def kept_offset(value):
    """The offset as a record or cache entry keeps it: a whole number of seconds within MAX_OFFSET, else 0."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_OFFSET:
        return 0
    return value


def site_now(offset):
    """The time on the site's clock now, by this machine's clock and the kept offset."""
    return time.time() + offset


def offset_warning(offset, url):
    """The warning for a clock that is off from the site's by more than WARN_ABOVE seconds, or None."""
    if abs(offset) <= WARN_ABOVE:
        return None
    return ('the clock of this machine is %d s %s the clock of %s (learnt from the token it issued); kept tokens are judged '
            'by the site\'s clock, but set this machine\'s clock right (NTP): a JWT signed here (key or trusted-service '
            'login) is refused once a clock behind the site\'s makes it look expired'
            % (abs(offset), 'behind' if offset > 0 else 'ahead of', url))


def _http_date(value):
    if not value:
        return None
    # Imported only here: a lookup's cache hit imports this module, and no answer.
    import email.utils
    try:
        return int(email.utils.parsedate_to_datetime(str(value)).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
