# Docker Compose targets, included by the Makefile. Needs Docker with Compose v2 and BuildKit.
# The whole system in two commands: `make docker-init`, then `docker compose up -d --build`.

DOCKER_COMPOSE ?= docker compose

.PHONY: docker-init up down logs

# The services run with HF_HUB_OFFLINE=1 (docker-compose.yml); the prefetch is the one step that
# reaches the model hub.
docker-init: .env ## once: .env, images, network, volumes, model weights into the models volume
	$(DOCKER_COMPOSE) up --no-start --build
	$(DOCKER_COMPOSE) run --rm --no-deps -e HF_HUB_OFFLINE=0 ingestworker python -m ingestworker.prefetch
	@echo "ready: docker compose up -d --build, then open http://localhost:3000"

# A first .env from .env.example with every secret random (hex: safe in a URL; 64 digits for
# the signing keys) and reads private; an existing .env is never touched.
.env:
	@umask 077 && random() { head -c "$$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; } \
	  && sed -e "s/^MINIO_ROOT_PASSWORD=.*/MINIO_ROOT_PASSWORD=$$(random 24)/" \
	         -e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$$(random 24)/" \
	         -e "s/^REDIS_PASSWORD=.*/REDIS_PASSWORD=$$(random 24)/" \
	         -e "s/^AUTH_JWT_SECRET=.*/AUTH_JWT_SECRET=$$(random 32)/" \
	         -e "s/^SIGNING_SECRET=.*/SIGNING_SECRET=$$(random 32)/" \
	         -e "s/^ADMIN_PASSWORD=.*/ADMIN_PASSWORD=$$(random 16)/" \
	         -e "s/^AUTH_PUBLIC_READ=.*/AUTH_PUBLIC_READ=false/" .env.example > .env
	@echo "wrote .env (from .env.example, every secret random); sign in as admin with its ADMIN_PASSWORD"

up: .env ## start the containers (http://localhost:3000), building what changed
	$(DOCKER_COMPOSE) up -d --build

down: ## stop and remove the containers; the data volumes stay
	$(DOCKER_COMPOSE) down

logs: ## follow every container's log
	$(DOCKER_COMPOSE) logs -f --tail=200
