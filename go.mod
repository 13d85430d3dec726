module github.com/jambridge/jambridge

go 1.26.8

require (
	github.com/gorilla/websocket v1.5.3
	gitlab.com/gomidi/midi/v2 v2.3.24
)

require (
	github.com/cpuguy83/go-md2man/v2 v2.0.7 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/urfave/cli/v2 v2.27.7 // indirect
	github.com/xrash/smetrics v0.0.0-20240521201337-686a1a2994c1 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
)
