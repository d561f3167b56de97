# find_python X.Y -- print the path of Python X.Y: pyenv's, else pythonX.Y on PATH.
# Missing one is a failure. Sourced by scripts/test.sh and scripts/ansible.sh.
find_python() {
  local root candidate
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for candidate in "$root"/versions/"$1".*/bin/python "$(command -v "python$1" || true)"; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  echo "$(basename "$0"): no Python $1 found (pyenv or python$1 on PATH)" >&2
  return 1
}
