# syntax=docker/dockerfile:1
# All mhm programs (ingest, spectro, detect, mhm, and whatever else is under
# cmd/) in one small image; docker-compose.yml picks the program per service
# with its entrypoint.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/ ./cmd/...

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/mhm"]
CMD ["--help"]
