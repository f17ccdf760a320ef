"""The largest comment each forge takes, in characters: the bound of the markdown outputs (plan, show, drift) and
the names `--comment-limit` accepts. Its own leaf, so that the option's check loads no renderer."""

# GitHub's REST API refuses a comment body past 65,536 characters; GitLab's notes stop at 1,000,000.
GITHUB_COMMENT_LIMIT = 65_536
COMMENT_LIMITS = {"github": GITHUB_COMMENT_LIMIT, "gitlab": 1_000_000}
