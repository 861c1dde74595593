"""The container files: no secrets in the image, a writable app for its user, one migrator."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _ignored() -> list[str]:
    return [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_the_image_never_contains_env_files_local_state_or_the_venv() -> None:
    ignored = _ignored()

    assert {".env", ".env.*", "var", ".venv"} <= set(ignored)
    assert "!.env.example" in ignored  # the documented template may go in


def test_the_non_root_user_owns_the_app_and_the_volume_mount_points() -> None:
    dockerfile = (ROOT / "platform" / "Dockerfile").read_text()

    assert "chown pathwise:pathwise /app /data /data/media /data/models" in dockerfile
    assert "COPY --chown=pathwise:pathwise . ." in dockerfile
    # Static files are collected at build time, as the user who owns /app.
    assert dockerfile.index("USER pathwise") < dockerfile.index("collectstatic --noinput")


def test_only_the_one_shot_migrate_service_migrates() -> None:
    entrypoint = (ROOT / "platform" / "entrypoint.sh").read_text()
    web_role = entrypoint.split("  web)")[1].split(";;")[0]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert "migrate" not in web_role
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "worker-ml", "beat"):
        assert services[name]["command"] != ["migrate"]
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_compose_serves_media_from_minio() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    assert services["minio"]["image"].startswith("minio/minio")
    environment = services["web"]["environment"]
    assert environment["PATHWISE_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert environment["PATHWISE_S3_BUCKET"] == "pathwise-media"
