"""TLS for a grading cluster: `grader cluster certs DIR`, and the client's side of it.

Anyone who can submit work to a Dask scheduler runs code on every worker,
and grading workers run as root (for the per-slot uids) next to the
reference and the hidden tests. So `grader batch --cluster` speaks TLS with
mutual certificates (Dask's own `distributed.Security`): the scheduler,
each worker and the client each prove they hold a certificate signed by the
course's CA, and nothing travels in clear.

`make_certs(DIR)` writes a CA and one certificate per role:

    ca.pem                               the CA every party trusts
    ca-key.pem                           the CA's key: keep it offline, it mints new members
    scheduler.pem, scheduler-key.pem     for `dask scheduler`
    worker.pem, worker-key.pem           for each `dask worker`
    client.pem, client-key.pem           for `grader batch --cluster tls://... --certs DIR`

Dask checks the chain, not the names, so any certificate of this CA can
join in any role: hand each machine only the files of its own role.
"""
import datetime
import ipaddress
from pathlib import Path

from ..errors import UsageError
from ..files import atomic_write

ROLES = ("scheduler", "worker", "client")
CLIENT_FILES = ("ca.pem", "client.pem", "client-key.pem")
DEFAULT_DAYS = 365


def make_certs(folder, hosts=("127.0.0.1", "localhost"), days: int = DEFAULT_DAYS) -> list[Path]:
    """Write a new CA and a certificate per role into folder; return the files written."""
    x509, hashes, serialization, ec, NameOID, ExtendedKeyUsageOID = _cryptography()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days)

    def name(common):
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ml-autograder cluster"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("ml-autograder CA")).issuer_name(name("ml-autograder CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    written = [_write_key(folder / "ca-key.pem", ca_key, serialization),
               atomic_write(folder / "ca.pem", ca.public_bytes(serialization.Encoding.PEM))]
    alt_names = x509.SubjectAlternativeName([_general_name(x509, h) for h in hosts])
    for role in ROLES:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(f"ml-autograder {role}")).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .add_extension(alt_names, critical=False)
                .sign(ca_key, hashes.SHA256()))
        written += [_write_key(folder / f"{role}-key.pem", key, serialization),
                    atomic_write(folder / f"{role}.pem", cert.public_bytes(serialization.Encoding.PEM))]
    return written


def client_security(folder):
    """distributed.Security for this client from DIR's ca.pem, client.pem and client-key.pem."""
    from distributed import Security  # optional: only cluster runs need dask
    folder = Path(folder)
    missing = [f for f in CLIENT_FILES if not (folder / f).is_file()]
    if missing:
        raise UsageError(f"--certs {folder}: missing {', '.join(missing)} "
                         f"(make them with `grader cluster certs {folder}`)")
    return Security(tls_ca_file=str(folder / "ca.pem"), tls_client_cert=str(folder / "client.pem"),
                    tls_client_key=str(folder / "client-key.pem"), require_encryption=True)


def _cryptography():
    try:  # optional: the `cluster` extra brings it
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ModuleNotFoundError:
        raise UsageError("making certificates needs the cryptography package: "
                         "pip install 'ml-autograder[cluster]'") from None
    return x509, hashes, serialization, ec, NameOID, ExtendedKeyUsageOID


def _general_name(x509, host):
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_key(path, key, serialization):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return atomic_write(path, pem, mode=0o600)


# --- the command: grader cluster certs DIR -----------------------------------------------

def configure(parser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    certs = actions.add_parser("certs", help="make a CA and the scheduler's, workers' and client's certificates")
    certs.add_argument("folder")
    certs.add_argument("--host", action="append", dest="hosts", metavar="NAME_OR_ADDRESS",
                       help="a name the certificates list (repeatable; default: 127.0.0.1 and localhost)")
    certs.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"validity (default {DEFAULT_DAYS})")
    certs.add_argument("--force", action="store_true", help="replace certificates already in the folder")


def main(args) -> int:
    folder = Path(args.folder)
    if (folder / "ca.pem").exists() and not args.force:
        raise UsageError(f"{folder}/ca.pem exists: a new CA would lock out every machine that has the "
                         "old certificates (pass --force to replace them)")
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    for path in make_certs(folder, args.hosts or ("127.0.0.1", "localhost"), args.days):
        print(f"wrote {path}")
    print(f"Give each machine only its role's files; keep {folder / 'ca-key.pem'} offline "
          "(docs/deployment.md, \"Grading on a cluster\").")
    return 0
