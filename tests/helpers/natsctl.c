/*
 * natsctl - what the nats:// tests ask a NATS server, without the nats
 * CLI (not packaged in Debian 12):
 *   natsctl URL req SUBJECT [PAYLOAD]       one request, reply on stdout
 *   natsctl URL pub SUBJECT MSGID FILE      publish FILE with Nats-Msg-Id
 *                                          (and a reply: the JetStream ack)
 * JetStream's API is requests on $JS.API.>, e.g. $JS.API.STREAM.CREATE.S.
 * Exit 0 when a reply came, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

static char *
slurp(const char *path, int *len)
{
	FILE *fp = fopen(path, "rb");
	char *d = NULL;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 || (d = malloc((size_t)n + 1)) == NULL ||
	    fread(d, 1, (size_t)n, fp) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(fp);
	*len = (int)n;
	return d;
}

int
main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsMsg *req = NULL, *rep = NULL;
	natsStatus s;
	char *data = NULL;
	int len = 0, rc = 1;

	if (argc < 4 || (strcmp(argv[2], "req") && strcmp(argv[2], "pub")) ||
	    (!strcmp(argv[2], "pub") && argc != 6)) {
		fprintf(stderr, "usage: natsctl URL req SUBJECT [PAYLOAD] | "
		    "natsctl URL pub SUBJECT MSGID FILE\n");
		return 2;
	}
	if (!strcmp(argv[2], "pub")) {
		data = slurp(argv[5], &len);
	} else if (argc > 4) {
		data = strdup(argv[4]);
		len = (int)strlen(data);
	}
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s == NATS_OK)
		s = natsMsg_Create(&req, argv[3], NULL, data, len);
	if (s == NATS_OK && !strcmp(argv[2], "pub"))
		s = natsMsgHeader_Set(req, "Nats-Msg-Id", argv[4]);
	if (s == NATS_OK)
		s = natsConnection_RequestMsg(&rep, nc, req, 5000);
	if (s == NATS_OK) {
		printf("%.*s\n", natsMsg_GetDataLength(rep), natsMsg_GetData(rep));
		rc = 0;
	} else {
		fprintf(stderr, "natsctl: %s\n", natsStatus_GetText(s));
	}
	natsMsg_Destroy(rep);
	natsMsg_Destroy(req);
	natsConnection_Destroy(nc);
	free(data);
	nats_Close();
	return rc;
}
