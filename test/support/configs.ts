/** A typical `.matinee.yml`: an app with a Postgres sidecar. */
export const WEB_CONFIG = `
app:
  image: ghcr.io/acme/web:{sha}
  port: 3000
  health: /health
  env:
    DATABASE_URL: postgres://postgres:postgres@localhost:5432/app
sidecars:
  db:
    image: postgres:16
    env:
      POSTGRES_PASSWORD: postgres
size: { cpu: 512, memory: 1024 }
idle: 30m
skip: ['*-no-infra']
env:
  PUBLIC_URL: '{url}'
`;

/** WEB_CONFIG with the app built from the repository's Dockerfile (`build:`) instead of pulled. */
export const BUILD_CONFIG = WEB_CONFIG.replace(
  '  image: ghcr.io/acme/web:{sha}\n',
  '  build: { args: { GIT_SHA: "{sha}" } }\n',
);
