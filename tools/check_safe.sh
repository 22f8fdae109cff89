#!/usr/bin/env bash
# Review gate for escaping (docs/security.md §7): |safe, mark_safe and autoescape off need an allow comment.
set -u
hits=$(grep -rn -E '\|safe|mark_safe\(|autoescape off' templates greenesg esg steering demo ingestion reports --include='*.html' --include='*.py' \
  | grep -v 'safe-reviewed' || true)
if [ -n "$hits" ]; then
  echo "Unreviewed unescaped output (add a 'safe-reviewed: why' comment on the line if it is right):"
  echo "$hits"
  exit 1
fi
