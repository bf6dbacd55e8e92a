// Run by scripts/kafka/kafka.sh (java's single-file source launcher, on the broker classpath) when the
// broker's storage was formatted without the SCRAM users, i.e. by an older kafka.sh: creates or updates
// (upserts) a user's SCRAM-SHA-512 and SCRAM-SHA-256 credentials through the Admin API, then waits until
// the broker reports both. The password is read from a file, so it never appears on a command line.
//
//   java -cp '<libs>/*' ScramCredentials.java <bootstrap> <user> <password file>
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.common.errors.ResourceNotFoundException;

public class ScramCredentials {
  private static final int ITERATIONS = 4096; // Kafka's minimum for both mechanisms
  private static final Set<ScramMechanism> MECHANISMS =
      EnumSet.of(ScramMechanism.SCRAM_SHA_512, ScramMechanism.SCRAM_SHA_256);

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: ScramCredentials <bootstrap> <user> <password file>");
      System.exit(64);
    }
    String bootstrap = args[0];
    String user = args[1];
    String password = Files.readString(Path.of(args[2]), StandardCharsets.UTF_8).strip();
    if (password.isEmpty()) throw new IllegalArgumentException("empty password in " + args[2]);

    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("client.id", "kafka.sh-scram-credentials");
    props.put("default.api.timeout.ms", "30000");
    try (Admin admin = Admin.create(props)) {
      // One request per mechanism: the broker rejects two alterations of one user in the same request.
      for (ScramMechanism mechanism : MECHANISMS) {
        List<UserScramCredentialAlteration> upsert =
            List.of(new UserScramCredentialUpsertion(user, new ScramCredentialInfo(mechanism, ITERATIONS), password));
        admin.alterUserScramCredentials(upsert).all().get(30, TimeUnit.SECONDS);
      }

      // The controller has committed the credentials; wait until the broker has applied them.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (true) {
        Set<ScramMechanism> present = EnumSet.noneOf(ScramMechanism.class);
        try {
          Map<String, UserScramCredentialsDescription> described =
              admin.describeUserScramCredentials(List.of(user)).all().get(30, TimeUnit.SECONDS);
          UserScramCredentialsDescription description = described.get(user);
          if (description != null) {
            description.credentialInfos().forEach(info -> present.add(info.mechanism()));
          }
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof ResourceNotFoundException)) throw e; // not applied yet
        }
        if (present.containsAll(MECHANISMS)) break;
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the broker does not report " + MECHANISMS + " for " + user + " (has " + present + ")");
        }
        Thread.sleep(100);
      }
    }
  }
}
