package shop.polyshop.agent;

import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * Registers itself through Spring Cloud's Eureka client (configured only by
 * properties on the command line) and answers:
 *
 * <pre>
 *   GET / or /{service}    which service and instance this is, and its client
 *   GET /discovered/{app}  the instances of {app} the Eureka client's copy holds
 * </pre>
 */
@SpringBootApplication
@RestController
public class AgentApplication {

    private final DiscoveryClient discovery;
    private final String service;
    private final String instanceId;

    public AgentApplication(
            DiscoveryClient discovery,
            @Value("${spring.application.name}") String service,
            @Value("${eureka.instance.instance-id}") String instanceId) {
        this.discovery = discovery;
        this.service = service;
        this.instanceId = instanceId;
    }

    public static void main(String[] args) {
        SpringApplication.run(AgentApplication.class, args);
    }

    // The gateway strips /api and sends /{service}, as the shop's services get.
    @GetMapping({"/", "/${spring.application.name}"})
    public Map<String, String> whoAmI() {
        return Map.of("service", service, "instance", instanceId, "client", "spring-cloud-netflix");
    }

    @GetMapping("/discovered/{app}")
    public Map<String, Object> discovered(@PathVariable String app) {
        List<Map<String, Object>> instances = discovery.getInstances(app).stream()
                .map(i -> Map.<String, Object>of(
                        "instanceId", i.getInstanceId(), "host", i.getHost(), "port", i.getPort()))
                .toList();
        return Map.of("service", app, "instances", instances);
    }
}
