"""A throwaway certificate authority for the local index's HTTPS.

Uploaders build Trusted Publishing URLs as `https://<host>/_/oidc/...`, so the
index must speak TLS. Clients trust this CA through `REQUESTS_CA_BUNDLE` (twine,
`id`) and `SSL_CERT_FILE` (uv), never through the system store.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hatch_attest_testing import _x509

_LIFETIME = datetime.timedelta(days=2)


@dataclass(frozen=True)
class ServerCredentials:
    """PEM files: the CA certificate clients trust, and the server's chain and key."""

    ca_path: Path
    chain_path: Path
    key_path: Path

    def context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.chain_path, self.key_path)
        return context


def server_credentials(
    directory: Path,
    *,
    hosts: Sequence[str],
    not_before: datetime.datetime,
) -> ServerCredentials:
    """Makes a CA and a server certificate for `hosts` and 127.0.0.1; writes them to `directory`."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hatch-attest local index"),
            x509.NameAttribute(NameOID.COMMON_NAME, "hatch-attest local index CA"),
        ]
    )
    not_after = not_before + _LIFETIME
    ca = (
        _x509.builder(ca_name, ca_name, ca_key.public_key(), not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_x509.key_usage(ca=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in hosts]
    names.append(x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    leaf = (
        _x509.builder(subject, ca_name, key.public_key(), not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_x509.key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    credentials = ServerCredentials(
        directory / "index-ca.pem", directory / "index-server.pem", directory / "index-key.pem"
    )
    credentials.ca_path.write_bytes(ca.public_bytes(pem))
    credentials.chain_path.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    credentials.key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    credentials.key_path.chmod(0o600)
    return credentials
