"""Getting dms-tui onto the bastion: a wheelhouse for its platform, the bucket it is shipped through, and the
install that runs there (user_data at boot, `ssm send-command` afterwards)."""
