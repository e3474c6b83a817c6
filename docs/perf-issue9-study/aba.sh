cd /work/wt-h9-perf
for v in 0 1 0 1; do export DB_OPEN_REQUEST=$v
  echo "=== DB_OPEN_REQUEST=$v"; AIGYM_VENV=/work/main/.venv scripts/bench --functions me --scenarios hello,me --runs 1 --duration 5 2>&1 | grep -v WARNING
done
