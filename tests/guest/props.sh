#!/bin/sh
# Oneshot "props" of the extra boot: the service settings vigil applied.
/bin/vtest env GREETING "hello world"
/bin/vtest cwd /run
/bin/vtest nofile 256 1024
/bin/vtest hostname vigil-extra
echo "props: done"
