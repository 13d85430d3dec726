#!/bin/sh
# debversion.sh VERSION: the Debian form of a `git describe` version.
# A tag v1.2.0 (with -3-gabc1234 after it) gives 1.2.0 (1.2.0+3+gabc1234);
# with no tag yet, commit abc1234, the 812th, gives 0.0~git812.abc1234, so
# later commits sort higher. Debian versions start with a digit and keep
# '-' for the package revision, so '-' becomes '+'.
v=${1:-dev}
case "$v" in
v[0-9]* | [0-9]*.*) v=${v#v} ;;
*) v="0.0~git$(git rev-list --count HEAD 2>/dev/null || echo 0).$v" ;;
esac
echo "$v" | tr - +
