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

_LIFETIME = datetime.timedelta(days=2)


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


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
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in hosts]
    names.append(x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")))
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
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
