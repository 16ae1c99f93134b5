"""The site's Mosquitto: per-device identities, ACLs, TLS certificates, revocation."""
