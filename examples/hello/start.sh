#!/bin/busybox sh
# Writes the pages, then serves them on port 80 until asked to stop (SIGTERM stops it at once).
/bin/busybox mkdir -p /www /tmp
echo ok > /www/up
echo "${KAMAL_VERSION:-unknown}" > /www/version
echo "${GREETING:-Hello} from ${KAMAL_CONTAINER_NAME:-hello} on ${KAMAL_HOST:-unknown}" > /www/index.html
/bin/busybox httpd -f -p 80 -h /www &
trap 'kill $!; exit 0' TERM INT
wait
