# etc/: example manifests and the agent's settings file (issue 10),
# installed as examples; the agent reads /etc/cetcd/{cluster.yaml,agent.conf}.
etcexamplesdir = $(docdir)/examples
dist_etcexamples_DATA = etc/cluster.yaml etc/single.yaml etc/local.yaml \
	etc/cluster.example.yaml etc/agent.conf
